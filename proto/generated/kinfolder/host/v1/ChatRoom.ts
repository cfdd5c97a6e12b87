// Original file: host.proto


export interface ChatRoom {
  'id'?: (string);
  'title'?: (string);
  'members'?: (string)[];
}

export interface ChatRoom__Output {
  'id': (string);
  'title': (string);
  'members': (string)[];
}
