// Original file: host.proto

import type { Peer as _kinfolder_host_v1_Peer, Peer__Output as _kinfolder_host_v1_Peer__Output } from '../../../kinfolder/host/v1/Peer';

export interface PeerList {
  'peers'?: (_kinfolder_host_v1_Peer)[];
}

export interface PeerList__Output {
  'peers': (_kinfolder_host_v1_Peer__Output)[];
}
