// Original file: host.proto


export interface LinkReady {
  'maxPayloadBytes'?: (number);
  'services'?: (string)[];
}

export interface LinkReady__Output {
  'maxPayloadBytes': (number);
  'services': (string)[];
}
