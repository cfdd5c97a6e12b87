// Original file: sync.proto

import type { VectorEntry as _kinfolder_sync_v1_VectorEntry, VectorEntry__Output as _kinfolder_sync_v1_VectorEntry__Output } from '../../../kinfolder/sync/v1/VectorEntry';

export interface CaughtUp {
  'folder'?: (Buffer | Uint8Array | string);
  'vector'?: (_kinfolder_sync_v1_VectorEntry)[];
}

export interface CaughtUp__Output {
  'folder': (Buffer);
  'vector': (_kinfolder_sync_v1_VectorEntry__Output)[];
}
