// Original file: host.proto

import type { LinkReady as _kinfolder_host_v1_LinkReady, LinkReady__Output as _kinfolder_host_v1_LinkReady__Output } from '../../../kinfolder/host/v1/LinkReady';
import type { LinkDelivery as _kinfolder_host_v1_LinkDelivery, LinkDelivery__Output as _kinfolder_host_v1_LinkDelivery__Output } from '../../../kinfolder/host/v1/LinkDelivery';
import type { LinkError as _kinfolder_host_v1_LinkError, LinkError__Output as _kinfolder_host_v1_LinkError__Output } from '../../../kinfolder/host/v1/LinkError';

export interface LinkEvent {
  'ready'?: (_kinfolder_host_v1_LinkReady | null);
  'delivery'?: (_kinfolder_host_v1_LinkDelivery | null);
  'error'?: (_kinfolder_host_v1_LinkError | null);
  'event'?: "ready"|"delivery"|"error";
}

export interface LinkEvent__Output {
  'ready'?: (_kinfolder_host_v1_LinkReady__Output | null);
  'delivery'?: (_kinfolder_host_v1_LinkDelivery__Output | null);
  'error'?: (_kinfolder_host_v1_LinkError__Output | null);
  'event'?: "ready"|"delivery"|"error";
}
