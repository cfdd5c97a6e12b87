// Original file: host.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { LinkEvent as _kinfolder_host_v1_LinkEvent, LinkEvent__Output as _kinfolder_host_v1_LinkEvent__Output } from '../../../kinfolder/host/v1/LinkEvent';
import type { LinkSend as _kinfolder_host_v1_LinkSend, LinkSend__Output as _kinfolder_host_v1_LinkSend__Output } from '../../../kinfolder/host/v1/LinkSend';

export interface LinksClient extends grpc.Client {
  Open(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkEvent__Output>;
  Open(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkEvent__Output>;
  open(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkEvent__Output>;
  open(options?: grpc.CallOptions): grpc.ClientDuplexStream<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkEvent__Output>;
  
}

export interface LinksHandlers extends grpc.UntypedServiceImplementation {
  Open: grpc.handleBidiStreamingCall<_kinfolder_host_v1_LinkSend__Output, _kinfolder_host_v1_LinkEvent>;
  
}

export interface LinksDefinition extends grpc.ServiceDefinition {
  Open: MethodDefinition<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkEvent, _kinfolder_host_v1_LinkSend__Output, _kinfolder_host_v1_LinkEvent__Output>
}
