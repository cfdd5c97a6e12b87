// Original file: host.proto

import type { Long } from '@grpc/proto-loader';

export interface Peer {
  'fingerprint'?: (string);
  'locationId'?: (string);
  'name'?: (string);
  'publicKeyArmored'?: (string);
  'online'?: (boolean);
  'lastSeenMs'?: (number | string | Long);
}

export interface Peer__Output {
  'fingerprint': (string);
  'locationId': (string);
  'name': (string);
  'publicKeyArmored': (string);
  'online': (boolean);
  'lastSeenMs': (number);
}
