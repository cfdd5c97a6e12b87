// Original file: host.proto

import type { PeerList as _kinfolder_host_v1_PeerList, PeerList__Output as _kinfolder_host_v1_PeerList__Output } from '../../../kinfolder/host/v1/PeerList';
import type { Peer as _kinfolder_host_v1_Peer, Peer__Output as _kinfolder_host_v1_Peer__Output } from '../../../kinfolder/host/v1/Peer';

export interface PeerEvent {
  'snapshot'?: (_kinfolder_host_v1_PeerList | null);
  'added'?: (_kinfolder_host_v1_Peer | null);
  'changed'?: (_kinfolder_host_v1_Peer | null);
  'removed'?: (string);
  'event'?: "snapshot"|"added"|"changed"|"removed";
}

export interface PeerEvent__Output {
  'snapshot'?: (_kinfolder_host_v1_PeerList__Output | null);
  'added'?: (_kinfolder_host_v1_Peer__Output | null);
  'changed'?: (_kinfolder_host_v1_Peer__Output | null);
  'removed'?: (string);
  'event'?: "snapshot"|"added"|"changed"|"removed";
}
