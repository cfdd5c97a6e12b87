// Original file: sync.proto

import type { ResumeFeed as _kinfolder_sync_v1_ResumeFeed, ResumeFeed__Output as _kinfolder_sync_v1_ResumeFeed__Output } from '../../../kinfolder/sync/v1/ResumeFeed';

export interface Resume {
  'folder'?: (Buffer | Uint8Array | string);
  'feeds'?: (_kinfolder_sync_v1_ResumeFeed)[];
}

export interface Resume__Output {
  'folder': (Buffer);
  'feeds': (_kinfolder_sync_v1_ResumeFeed__Output)[];
}
