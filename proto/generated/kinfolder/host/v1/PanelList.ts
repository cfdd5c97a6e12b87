// Original file: host.proto

import type { Panel as _kinfolder_host_v1_Panel, Panel__Output as _kinfolder_host_v1_Panel__Output } from '../../../kinfolder/host/v1/Panel';

export interface PanelList {
  'panels'?: (_kinfolder_host_v1_Panel)[];
}

export interface PanelList__Output {
  'panels': (_kinfolder_host_v1_Panel__Output)[];
}
