// Original file: sync.proto


export interface Refusal {
  'folder'?: (Buffer | Uint8Array | string);
  'code'?: (string);
  'message'?: (string);
}

export interface Refusal__Output {
  'folder': (Buffer);
  'code': (string);
  'message': (string);
}
