// Original file: host.proto

import type { ChatRoom as _kinfolder_host_v1_ChatRoom, ChatRoom__Output as _kinfolder_host_v1_ChatRoom__Output } from '../../../kinfolder/host/v1/ChatRoom';

export interface ChatRoomList {
  'rooms'?: (_kinfolder_host_v1_ChatRoom)[];
}

export interface ChatRoomList__Output {
  'rooms': (_kinfolder_host_v1_ChatRoom__Output)[];
}
