// Original file: sync.proto

import type { Long } from '@grpc/proto-loader';

export interface BlockReply {
  'id'?: (number | string | Long);
  'hash'?: (Buffer | Uint8Array | string);
  'data'?: (Buffer | Uint8Array | string);
  'notFound'?: (boolean);
  'answer'?: "data"|"notFound";
}

export interface BlockReply__Output {
  'id': (number);
  'hash': (Buffer);
  'data'?: (Buffer);
  'notFound'?: (boolean);
  'answer'?: "data"|"notFound";
}
