// Original file: host.proto


export interface ChatSendRequest {
  'peer'?: (string);
  'room'?: (string);
  'text'?: (string);
  'to'?: "peer"|"room";
}

export interface ChatSendRequest__Output {
  'peer'?: (string);
  'room'?: (string);
  'text': (string);
  'to'?: "peer"|"room";
}
