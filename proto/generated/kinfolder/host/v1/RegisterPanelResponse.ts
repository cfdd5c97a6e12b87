// Original file: host.proto

import type { Panel as _kinfolder_host_v1_Panel, Panel__Output as _kinfolder_host_v1_Panel__Output } from '../../../kinfolder/host/v1/Panel';

export interface RegisterPanelResponse {
  'panel'?: (_kinfolder_host_v1_Panel | null);
  'panelToken'?: (string);
}

export interface RegisterPanelResponse__Output {
  'panel': (_kinfolder_host_v1_Panel__Output | null);
  'panelToken': (string);
}
