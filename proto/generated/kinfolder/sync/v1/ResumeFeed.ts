// Original file: sync.proto

import type { Long } from '@grpc/proto-loader';

export interface ResumeFeed {
  'author'?: (Buffer | Uint8Array | string);
  'seq'?: (number | string | Long);
  'head'?: (Buffer | Uint8Array | string);
}

export interface ResumeFeed__Output {
  'author': (Buffer);
  'seq': (number);
  'head': (Buffer);
}
