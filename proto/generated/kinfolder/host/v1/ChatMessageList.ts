// Original file: host.proto

import type { ChatMessage as _kinfolder_host_v1_ChatMessage, ChatMessage__Output as _kinfolder_host_v1_ChatMessage__Output } from '../../../kinfolder/host/v1/ChatMessage';

export interface ChatMessageList {
  'messages'?: (_kinfolder_host_v1_ChatMessage)[];
}

export interface ChatMessageList__Output {
  'messages': (_kinfolder_host_v1_ChatMessage__Output)[];
}
