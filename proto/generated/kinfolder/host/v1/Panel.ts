// Original file: host.proto


export interface Panel {
  'pluginId'?: (string);
  'id'?: (string);
  'title'?: (string);
  'icon'?: (string);
  'url'?: (string);
}

export interface Panel__Output {
  'pluginId': (string);
  'id': (string);
  'title': (string);
  'icon': (string);
  'url': (string);
}
