// Original file: host.proto

import type { Long } from '@grpc/proto-loader';

export interface ChatMessage {
  'id'?: (string);
  'from'?: (string);
  'fromName'?: (string);
  'peer'?: (string);
  'room'?: (string);
  'text'?: (string);
  'sentAtMs'?: (number | string | Long);
  'outgoing'?: (boolean);
}

export interface ChatMessage__Output {
  'id': (string);
  'from': (string);
  'fromName': (string);
  'peer': (string);
  'room': (string);
  'text': (string);
  'sentAtMs': (number);
  'outgoing': (boolean);
}
