// Original file: host.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetSelfRequest as _kinfolder_host_v1_GetSelfRequest, GetSelfRequest__Output as _kinfolder_host_v1_GetSelfRequest__Output } from '../../../kinfolder/host/v1/GetSelfRequest';
import type { SelfIdentity as _kinfolder_host_v1_SelfIdentity, SelfIdentity__Output as _kinfolder_host_v1_SelfIdentity__Output } from '../../../kinfolder/host/v1/SelfIdentity';
import type { SignRequest as _kinfolder_host_v1_SignRequest, SignRequest__Output as _kinfolder_host_v1_SignRequest__Output } from '../../../kinfolder/host/v1/SignRequest';
import type { SignResponse as _kinfolder_host_v1_SignResponse, SignResponse__Output as _kinfolder_host_v1_SignResponse__Output } from '../../../kinfolder/host/v1/SignResponse';

export interface IdentityClient extends grpc.Client {
  GetSelf(argument: _kinfolder_host_v1_GetSelfRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  GetSelf(argument: _kinfolder_host_v1_GetSelfRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  GetSelf(argument: _kinfolder_host_v1_GetSelfRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  GetSelf(argument: _kinfolder_host_v1_GetSelfRequest, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  getSelf(argument: _kinfolder_host_v1_GetSelfRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  getSelf(argument: _kinfolder_host_v1_GetSelfRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  getSelf(argument: _kinfolder_host_v1_GetSelfRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  getSelf(argument: _kinfolder_host_v1_GetSelfRequest, callback: grpc.requestCallback<_kinfolder_host_v1_SelfIdentity__Output>): grpc.ClientUnaryCall;
  
  Sign(argument: _kinfolder_host_v1_SignRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _kinfolder_host_v1_SignRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _kinfolder_host_v1_SignRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _kinfolder_host_v1_SignRequest, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _kinfolder_host_v1_SignRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _kinfolder_host_v1_SignRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _kinfolder_host_v1_SignRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _kinfolder_host_v1_SignRequest, callback: grpc.requestCallback<_kinfolder_host_v1_SignResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface IdentityHandlers extends grpc.UntypedServiceImplementation {
  GetSelf: grpc.handleUnaryCall<_kinfolder_host_v1_GetSelfRequest__Output, _kinfolder_host_v1_SelfIdentity>;
  
  Sign: grpc.handleUnaryCall<_kinfolder_host_v1_SignRequest__Output, _kinfolder_host_v1_SignResponse>;
  
}

export interface IdentityDefinition extends grpc.ServiceDefinition {
  GetSelf: MethodDefinition<_kinfolder_host_v1_GetSelfRequest, _kinfolder_host_v1_SelfIdentity, _kinfolder_host_v1_GetSelfRequest__Output, _kinfolder_host_v1_SelfIdentity__Output>
  Sign: MethodDefinition<_kinfolder_host_v1_SignRequest, _kinfolder_host_v1_SignResponse, _kinfolder_host_v1_SignRequest__Output, _kinfolder_host_v1_SignResponse__Output>
}
