// Original file: host.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ListPeersRequest as _kinfolder_host_v1_ListPeersRequest, ListPeersRequest__Output as _kinfolder_host_v1_ListPeersRequest__Output } from '../../../kinfolder/host/v1/ListPeersRequest';
import type { PeerEvent as _kinfolder_host_v1_PeerEvent, PeerEvent__Output as _kinfolder_host_v1_PeerEvent__Output } from '../../../kinfolder/host/v1/PeerEvent';
import type { PeerList as _kinfolder_host_v1_PeerList, PeerList__Output as _kinfolder_host_v1_PeerList__Output } from '../../../kinfolder/host/v1/PeerList';
import type { WatchPeersRequest as _kinfolder_host_v1_WatchPeersRequest, WatchPeersRequest__Output as _kinfolder_host_v1_WatchPeersRequest__Output } from '../../../kinfolder/host/v1/WatchPeersRequest';

export interface PeersClient extends grpc.Client {
  List(argument: _kinfolder_host_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  List(argument: _kinfolder_host_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  List(argument: _kinfolder_host_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  List(argument: _kinfolder_host_v1_ListPeersRequest, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  list(argument: _kinfolder_host_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  list(argument: _kinfolder_host_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  list(argument: _kinfolder_host_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  list(argument: _kinfolder_host_v1_ListPeersRequest, callback: grpc.requestCallback<_kinfolder_host_v1_PeerList__Output>): grpc.ClientUnaryCall;
  
  Watch(argument: _kinfolder_host_v1_WatchPeersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_PeerEvent__Output>;
  Watch(argument: _kinfolder_host_v1_WatchPeersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_PeerEvent__Output>;
  watch(argument: _kinfolder_host_v1_WatchPeersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_PeerEvent__Output>;
  watch(argument: _kinfolder_host_v1_WatchPeersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_PeerEvent__Output>;
  
}

export interface PeersHandlers extends grpc.UntypedServiceImplementation {
  List: grpc.handleUnaryCall<_kinfolder_host_v1_ListPeersRequest__Output, _kinfolder_host_v1_PeerList>;
  
  Watch: grpc.handleServerStreamingCall<_kinfolder_host_v1_WatchPeersRequest__Output, _kinfolder_host_v1_PeerEvent>;
  
}

export interface PeersDefinition extends grpc.ServiceDefinition {
  List: MethodDefinition<_kinfolder_host_v1_ListPeersRequest, _kinfolder_host_v1_PeerList, _kinfolder_host_v1_ListPeersRequest__Output, _kinfolder_host_v1_PeerList__Output>
  Watch: MethodDefinition<_kinfolder_host_v1_WatchPeersRequest, _kinfolder_host_v1_PeerEvent, _kinfolder_host_v1_WatchPeersRequest__Output, _kinfolder_host_v1_PeerEvent__Output>
}
