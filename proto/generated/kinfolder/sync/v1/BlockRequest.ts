// Original file: sync.proto

import type { Long } from '@grpc/proto-loader';

export interface BlockRequest {
  'id'?: (number | string | Long);
  'hash'?: (Buffer | Uint8Array | string);
  'size'?: (number | string | Long);
}

export interface BlockRequest__Output {
  'id': (number);
  'hash': (Buffer);
  'size': (number);
}
