// Original file: host.proto


export interface SelfIdentity {
  'fingerprint'?: (string);
  'locationId'?: (string);
  'displayName'?: (string);
  'publicKeyArmored'?: (string);
  'keyAlgorithm'?: (string);
  'pluginId'?: (string);
  'contractVersion'?: (string);
  'hostSoftware'?: (string);
}

export interface SelfIdentity__Output {
  'fingerprint': (string);
  'locationId': (string);
  'displayName': (string);
  'publicKeyArmored': (string);
  'keyAlgorithm': (string);
  'pluginId': (string);
  'contractVersion': (string);
  'hostSoftware': (string);
}
