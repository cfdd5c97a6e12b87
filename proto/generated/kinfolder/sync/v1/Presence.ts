// Original file: sync.proto


export interface Presence {
  'folder'?: (Buffer | Uint8Array | string);
  'paths'?: (string)[];
}

export interface Presence__Output {
  'folder': (Buffer);
  'paths': (string)[];
}
