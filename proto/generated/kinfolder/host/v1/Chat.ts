// Original file: host.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ChatHistoryRequest as _kinfolder_host_v1_ChatHistoryRequest, ChatHistoryRequest__Output as _kinfolder_host_v1_ChatHistoryRequest__Output } from '../../../kinfolder/host/v1/ChatHistoryRequest';
import type { ChatMessage as _kinfolder_host_v1_ChatMessage, ChatMessage__Output as _kinfolder_host_v1_ChatMessage__Output } from '../../../kinfolder/host/v1/ChatMessage';
import type { ChatMessageList as _kinfolder_host_v1_ChatMessageList, ChatMessageList__Output as _kinfolder_host_v1_ChatMessageList__Output } from '../../../kinfolder/host/v1/ChatMessageList';
import type { ChatRoom as _kinfolder_host_v1_ChatRoom, ChatRoom__Output as _kinfolder_host_v1_ChatRoom__Output } from '../../../kinfolder/host/v1/ChatRoom';
import type { ChatRoomList as _kinfolder_host_v1_ChatRoomList, ChatRoomList__Output as _kinfolder_host_v1_ChatRoomList__Output } from '../../../kinfolder/host/v1/ChatRoomList';
import type { ChatSendRequest as _kinfolder_host_v1_ChatSendRequest, ChatSendRequest__Output as _kinfolder_host_v1_ChatSendRequest__Output } from '../../../kinfolder/host/v1/ChatSendRequest';
import type { ChatSendResponse as _kinfolder_host_v1_ChatSendResponse, ChatSendResponse__Output as _kinfolder_host_v1_ChatSendResponse__Output } from '../../../kinfolder/host/v1/ChatSendResponse';
import type { ChatWatchRequest as _kinfolder_host_v1_ChatWatchRequest, ChatWatchRequest__Output as _kinfolder_host_v1_ChatWatchRequest__Output } from '../../../kinfolder/host/v1/ChatWatchRequest';
import type { JoinRoomRequest as _kinfolder_host_v1_JoinRoomRequest, JoinRoomRequest__Output as _kinfolder_host_v1_JoinRoomRequest__Output } from '../../../kinfolder/host/v1/JoinRoomRequest';
import type { ListRoomsRequest as _kinfolder_host_v1_ListRoomsRequest, ListRoomsRequest__Output as _kinfolder_host_v1_ListRoomsRequest__Output } from '../../../kinfolder/host/v1/ListRoomsRequest';

export interface ChatClient extends grpc.Client {
  History(argument: _kinfolder_host_v1_ChatHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  History(argument: _kinfolder_host_v1_ChatHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  History(argument: _kinfolder_host_v1_ChatHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  History(argument: _kinfolder_host_v1_ChatHistoryRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  history(argument: _kinfolder_host_v1_ChatHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  history(argument: _kinfolder_host_v1_ChatHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  history(argument: _kinfolder_host_v1_ChatHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  history(argument: _kinfolder_host_v1_ChatHistoryRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatMessageList__Output>): grpc.ClientUnaryCall;
  
  JoinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  JoinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  JoinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  JoinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  joinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  joinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  joinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  joinRoom(argument: _kinfolder_host_v1_JoinRoomRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoom__Output>): grpc.ClientUnaryCall;
  
  ListRooms(argument: _kinfolder_host_v1_ListRoomsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  ListRooms(argument: _kinfolder_host_v1_ListRoomsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  ListRooms(argument: _kinfolder_host_v1_ListRoomsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  ListRooms(argument: _kinfolder_host_v1_ListRoomsRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  listRooms(argument: _kinfolder_host_v1_ListRoomsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  listRooms(argument: _kinfolder_host_v1_ListRoomsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  listRooms(argument: _kinfolder_host_v1_ListRoomsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  listRooms(argument: _kinfolder_host_v1_ListRoomsRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatRoomList__Output>): grpc.ClientUnaryCall;
  
  Send(argument: _kinfolder_host_v1_ChatSendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _kinfolder_host_v1_ChatSendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _kinfolder_host_v1_ChatSendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _kinfolder_host_v1_ChatSendRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _kinfolder_host_v1_ChatSendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _kinfolder_host_v1_ChatSendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _kinfolder_host_v1_ChatSendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _kinfolder_host_v1_ChatSendRequest, callback: grpc.requestCallback<_kinfolder_host_v1_ChatSendResponse__Output>): grpc.ClientUnaryCall;
  
  Watch(argument: _kinfolder_host_v1_ChatWatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_ChatMessage__Output>;
  Watch(argument: _kinfolder_host_v1_ChatWatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_ChatMessage__Output>;
  watch(argument: _kinfolder_host_v1_ChatWatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_ChatMessage__Output>;
  watch(argument: _kinfolder_host_v1_ChatWatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kinfolder_host_v1_ChatMessage__Output>;
  
}

export interface ChatHandlers extends grpc.UntypedServiceImplementation {
  History: grpc.handleUnaryCall<_kinfolder_host_v1_ChatHistoryRequest__Output, _kinfolder_host_v1_ChatMessageList>;
  
  JoinRoom: grpc.handleUnaryCall<_kinfolder_host_v1_JoinRoomRequest__Output, _kinfolder_host_v1_ChatRoom>;
  
  ListRooms: grpc.handleUnaryCall<_kinfolder_host_v1_ListRoomsRequest__Output, _kinfolder_host_v1_ChatRoomList>;
  
  Send: grpc.handleUnaryCall<_kinfolder_host_v1_ChatSendRequest__Output, _kinfolder_host_v1_ChatSendResponse>;
  
  Watch: grpc.handleServerStreamingCall<_kinfolder_host_v1_ChatWatchRequest__Output, _kinfolder_host_v1_ChatMessage>;
  
}

export interface ChatDefinition extends grpc.ServiceDefinition {
  History: MethodDefinition<_kinfolder_host_v1_ChatHistoryRequest, _kinfolder_host_v1_ChatMessageList, _kinfolder_host_v1_ChatHistoryRequest__Output, _kinfolder_host_v1_ChatMessageList__Output>
  JoinRoom: MethodDefinition<_kinfolder_host_v1_JoinRoomRequest, _kinfolder_host_v1_ChatRoom, _kinfolder_host_v1_JoinRoomRequest__Output, _kinfolder_host_v1_ChatRoom__Output>
  ListRooms: MethodDefinition<_kinfolder_host_v1_ListRoomsRequest, _kinfolder_host_v1_ChatRoomList, _kinfolder_host_v1_ListRoomsRequest__Output, _kinfolder_host_v1_ChatRoomList__Output>
  Send: MethodDefinition<_kinfolder_host_v1_ChatSendRequest, _kinfolder_host_v1_ChatSendResponse, _kinfolder_host_v1_ChatSendRequest__Output, _kinfolder_host_v1_ChatSendResponse__Output>
  Watch: MethodDefinition<_kinfolder_host_v1_ChatWatchRequest, _kinfolder_host_v1_ChatMessage, _kinfolder_host_v1_ChatWatchRequest__Output, _kinfolder_host_v1_ChatMessage__Output>
}
