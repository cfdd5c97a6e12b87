// Original file: sync.proto


export interface Hello {
  'protocolVersion'?: (number);
  'folders'?: (Buffer | Uint8Array | string)[];
}

export interface Hello__Output {
  'protocolVersion': (number);
  'folders': (Buffer)[];
}
