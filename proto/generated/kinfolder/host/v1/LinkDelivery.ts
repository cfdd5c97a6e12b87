// Original file: host.proto


export interface LinkDelivery {
  'peer'?: (string);
  'service'?: (string);
  'payload'?: (Buffer | Uint8Array | string);
}

export interface LinkDelivery__Output {
  'peer': (string);
  'service': (string);
  'payload': (Buffer);
}
