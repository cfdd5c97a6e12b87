// Original file: sync.proto

import type { VectorEntry as _kinfolder_sync_v1_VectorEntry, VectorEntry__Output as _kinfolder_sync_v1_VectorEntry__Output } from '../../../kinfolder/sync/v1/VectorEntry';

export interface Vector {
  'folder'?: (Buffer | Uint8Array | string);
  'entries'?: (_kinfolder_sync_v1_VectorEntry)[];
}

export interface Vector__Output {
  'folder': (Buffer);
  'entries': (_kinfolder_sync_v1_VectorEntry__Output)[];
}
