// Original file: /work/main/proto/host.proto


export interface LinkReady {
  'maxPayloadBytes'?: (number);
  'services'?: (string)[];
}

export interface LinkReady__Output {
  'maxPayloadBytes': (number);
  'services': (string)[];
}
