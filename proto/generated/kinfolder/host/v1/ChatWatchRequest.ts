// Original file: /work/main/proto/host.proto


export interface ChatWatchRequest {
  'room'?: (string);
}

export interface ChatWatchRequest__Output {
  'room': (string);
}
