// Original file: sync.proto


export interface Manifest {
  'folder'?: (Buffer | Uint8Array | string);
  'head'?: (Buffer | Uint8Array | string);
  'chain'?: (Buffer | Uint8Array | string)[];
}

export interface Manifest__Output {
  'folder': (Buffer);
  'head': (Buffer);
  'chain': (Buffer)[];
}
