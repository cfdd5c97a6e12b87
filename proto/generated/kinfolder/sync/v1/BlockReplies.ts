// Original file: sync.proto

import type { BlockReply as _kinfolder_sync_v1_BlockReply, BlockReply__Output as _kinfolder_sync_v1_BlockReply__Output } from '../../../kinfolder/sync/v1/BlockReply';

export interface BlockReplies {
  'replies'?: (_kinfolder_sync_v1_BlockReply)[];
}

export interface BlockReplies__Output {
  'replies': (_kinfolder_sync_v1_BlockReply__Output)[];
}
