// Original file: host.proto


export interface ChatHistoryRequest {
  'peer'?: (string);
  'room'?: (string);
  'limit'?: (number);
  'of'?: "peer"|"room";
}

export interface ChatHistoryRequest__Output {
  'peer'?: (string);
  'room'?: (string);
  'limit': (number);
  'of'?: "peer"|"room";
}
