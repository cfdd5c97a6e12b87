// Original file: host.proto

import type { Long } from '@grpc/proto-loader';

export interface LinkError {
  'id'?: (number | string | Long);
  'code'?: (number);
  'message'?: (string);
  'peer'?: (string);
}

export interface LinkError__Output {
  'id': (number);
  'code': (number);
  'message': (string);
  'peer': (string);
}
