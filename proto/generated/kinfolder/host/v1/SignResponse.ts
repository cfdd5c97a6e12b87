// Original file: host.proto


export interface SignResponse {
  'signature'?: (Buffer | Uint8Array | string);
  'signatureArmored'?: (string);
}

export interface SignResponse__Output {
  'signature': (Buffer);
  'signatureArmored': (string);
}
