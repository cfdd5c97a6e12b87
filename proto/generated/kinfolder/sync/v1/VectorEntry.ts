// Original file: sync.proto

import type { Long } from '@grpc/proto-loader';

export interface VectorEntry {
  'author'?: (Buffer | Uint8Array | string);
  'seq'?: (number | string | Long);
  'head'?: (Buffer | Uint8Array | string);
}

export interface VectorEntry__Output {
  'author': (Buffer);
  'seq': (number);
  'head': (Buffer);
}
