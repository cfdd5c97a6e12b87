// Original file: host.proto

import type { Long } from '@grpc/proto-loader';

export interface LinkSend {
  'id'?: (number | string | Long);
  'peer'?: (string);
  'service'?: (string);
  'payload'?: (Buffer | Uint8Array | string);
}

export interface LinkSend__Output {
  'id': (number);
  'peer': (string);
  'service': (string);
  'payload': (Buffer);
}
