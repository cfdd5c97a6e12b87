// Original file: sync.proto


export interface Hold {
  'folder'?: (Buffer | Uint8Array | string);
  'authors'?: (Buffer | Uint8Array | string)[];
}

export interface Hold__Output {
  'folder': (Buffer);
  'authors': (Buffer)[];
}
