// Original file: host.proto

import type { ChatMessage as _kinfolder_host_v1_ChatMessage, ChatMessage__Output as _kinfolder_host_v1_ChatMessage__Output } from '../../../kinfolder/host/v1/ChatMessage';

export interface ChatSendResponse {
  'message'?: (_kinfolder_host_v1_ChatMessage | null);
  'deliveredTo'?: (string)[];
}

export interface ChatSendResponse__Output {
  'message': (_kinfolder_host_v1_ChatMessage__Output | null);
  'deliveredTo': (string)[];
}
