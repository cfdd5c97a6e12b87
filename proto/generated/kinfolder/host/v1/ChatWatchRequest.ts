// Original file: host.proto


export interface ChatWatchRequest {
  'room'?: (string);
}

export interface ChatWatchRequest__Output {
  'room': (string);
}
