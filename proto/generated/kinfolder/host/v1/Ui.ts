// Original file: host.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ListPanelsRequest as _kinfolder_host_v1_ListPanelsRequest, ListPanelsRequest__Output as _kinfolder_host_v1_ListPanelsRequest__Output } from '../../../kinfolder/host/v1/ListPanelsRequest';
import type { PanelList as _kinfolder_host_v1_PanelList, PanelList__Output as _kinfolder_host_v1_PanelList__Output } from '../../../kinfolder/host/v1/PanelList';
import type { RegisterPanelRequest as _kinfolder_host_v1_RegisterPanelRequest, RegisterPanelRequest__Output as _kinfolder_host_v1_RegisterPanelRequest__Output } from '../../../kinfolder/host/v1/RegisterPanelRequest';
import type { RegisterPanelResponse as _kinfolder_host_v1_RegisterPanelResponse, RegisterPanelResponse__Output as _kinfolder_host_v1_RegisterPanelResponse__Output } from '../../../kinfolder/host/v1/RegisterPanelResponse';

export interface UiClient extends grpc.Client {
  ListPanels(argument: _kinfolder_host_v1_ListPanelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  ListPanels(argument: _kinfolder_host_v1_ListPanelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  ListPanels(argument: _kinfolder_host_v1_ListPanelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  ListPanels(argument: _kinfolder_host_v1_ListPanelsRequest, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  listPanels(argument: _kinfolder_host_v1_ListPanelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  listPanels(argument: _kinfolder_host_v1_ListPanelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  listPanels(argument: _kinfolder_host_v1_ListPanelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  listPanels(argument: _kinfolder_host_v1_ListPanelsRequest, callback: grpc.requestCallback<_kinfolder_host_v1_PanelList__Output>): grpc.ClientUnaryCall;
  
  RegisterPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  RegisterPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  RegisterPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  RegisterPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  registerPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  registerPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  registerPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  registerPanel(argument: _kinfolder_host_v1_RegisterPanelRequest, callback: grpc.requestCallback<_kinfolder_host_v1_RegisterPanelResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface UiHandlers extends grpc.UntypedServiceImplementation {
  ListPanels: grpc.handleUnaryCall<_kinfolder_host_v1_ListPanelsRequest__Output, _kinfolder_host_v1_PanelList>;
  
  RegisterPanel: grpc.handleUnaryCall<_kinfolder_host_v1_RegisterPanelRequest__Output, _kinfolder_host_v1_RegisterPanelResponse>;
  
}

export interface UiDefinition extends grpc.ServiceDefinition {
  ListPanels: MethodDefinition<_kinfolder_host_v1_ListPanelsRequest, _kinfolder_host_v1_PanelList, _kinfolder_host_v1_ListPanelsRequest__Output, _kinfolder_host_v1_PanelList__Output>
  RegisterPanel: MethodDefinition<_kinfolder_host_v1_RegisterPanelRequest, _kinfolder_host_v1_RegisterPanelResponse, _kinfolder_host_v1_RegisterPanelRequest__Output, _kinfolder_host_v1_RegisterPanelResponse__Output>
}
