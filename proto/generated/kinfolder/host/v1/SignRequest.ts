// Original file: host.proto


export interface SignRequest {
  'payload'?: (Buffer | Uint8Array | string);
}

export interface SignRequest__Output {
  'payload': (Buffer);
}
