// Original file: sync.proto


export interface EntryBatch {
  'folder'?: (Buffer | Uint8Array | string);
  'entries'?: (Buffer | Uint8Array | string)[];
  'checkpoints'?: (Buffer | Uint8Array | string)[];
  'more'?: (boolean);
}

export interface EntryBatch__Output {
  'folder': (Buffer);
  'entries': (Buffer)[];
  'checkpoints': (Buffer)[];
  'more': (boolean);
}
