// Original file: sync.proto

import type { BlockRequest as _kinfolder_sync_v1_BlockRequest, BlockRequest__Output as _kinfolder_sync_v1_BlockRequest__Output } from '../../../kinfolder/sync/v1/BlockRequest';

export interface BlockRequests {
  'requests'?: (_kinfolder_sync_v1_BlockRequest)[];
}

export interface BlockRequests__Output {
  'requests': (_kinfolder_sync_v1_BlockRequest__Output)[];
}
