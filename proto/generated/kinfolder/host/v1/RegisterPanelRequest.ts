// Original file: host.proto


export interface RegisterPanelRequest {
  'id'?: (string);
  'title'?: (string);
  'icon'?: (string);
  'url'?: (string);
}

export interface RegisterPanelRequest__Output {
  'id': (string);
  'title': (string);
  'icon': (string);
  'url': (string);
}
