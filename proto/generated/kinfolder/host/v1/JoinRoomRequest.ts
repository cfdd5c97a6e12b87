// Original file: host.proto


export interface JoinRoomRequest {
  'room'?: (string);
  'title'?: (string);
  'members'?: (string)[];
}

export interface JoinRoomRequest__Output {
  'room': (string);
  'title': (string);
  'members': (string)[];
}
