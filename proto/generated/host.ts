import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatClient as _kinfolder_host_v1_ChatClient, ChatDefinition as _kinfolder_host_v1_ChatDefinition } from './kinfolder/host/v1/Chat';
import type { ChatHistoryRequest as _kinfolder_host_v1_ChatHistoryRequest, ChatHistoryRequest__Output as _kinfolder_host_v1_ChatHistoryRequest__Output } from './kinfolder/host/v1/ChatHistoryRequest';
import type { ChatMessage as _kinfolder_host_v1_ChatMessage, ChatMessage__Output as _kinfolder_host_v1_ChatMessage__Output } from './kinfolder/host/v1/ChatMessage';
import type { ChatMessageList as _kinfolder_host_v1_ChatMessageList, ChatMessageList__Output as _kinfolder_host_v1_ChatMessageList__Output } from './kinfolder/host/v1/ChatMessageList';
import type { ChatRoom as _kinfolder_host_v1_ChatRoom, ChatRoom__Output as _kinfolder_host_v1_ChatRoom__Output } from './kinfolder/host/v1/ChatRoom';
import type { ChatRoomList as _kinfolder_host_v1_ChatRoomList, ChatRoomList__Output as _kinfolder_host_v1_ChatRoomList__Output } from './kinfolder/host/v1/ChatRoomList';
import type { ChatSendRequest as _kinfolder_host_v1_ChatSendRequest, ChatSendRequest__Output as _kinfolder_host_v1_ChatSendRequest__Output } from './kinfolder/host/v1/ChatSendRequest';
import type { ChatSendResponse as _kinfolder_host_v1_ChatSendResponse, ChatSendResponse__Output as _kinfolder_host_v1_ChatSendResponse__Output } from './kinfolder/host/v1/ChatSendResponse';
import type { ChatWatchRequest as _kinfolder_host_v1_ChatWatchRequest, ChatWatchRequest__Output as _kinfolder_host_v1_ChatWatchRequest__Output } from './kinfolder/host/v1/ChatWatchRequest';
import type { GetSelfRequest as _kinfolder_host_v1_GetSelfRequest, GetSelfRequest__Output as _kinfolder_host_v1_GetSelfRequest__Output } from './kinfolder/host/v1/GetSelfRequest';
import type { IdentityClient as _kinfolder_host_v1_IdentityClient, IdentityDefinition as _kinfolder_host_v1_IdentityDefinition } from './kinfolder/host/v1/Identity';
import type { JoinRoomRequest as _kinfolder_host_v1_JoinRoomRequest, JoinRoomRequest__Output as _kinfolder_host_v1_JoinRoomRequest__Output } from './kinfolder/host/v1/JoinRoomRequest';
import type { LinkDelivery as _kinfolder_host_v1_LinkDelivery, LinkDelivery__Output as _kinfolder_host_v1_LinkDelivery__Output } from './kinfolder/host/v1/LinkDelivery';
import type { LinkError as _kinfolder_host_v1_LinkError, LinkError__Output as _kinfolder_host_v1_LinkError__Output } from './kinfolder/host/v1/LinkError';
import type { LinkEvent as _kinfolder_host_v1_LinkEvent, LinkEvent__Output as _kinfolder_host_v1_LinkEvent__Output } from './kinfolder/host/v1/LinkEvent';
import type { LinkReady as _kinfolder_host_v1_LinkReady, LinkReady__Output as _kinfolder_host_v1_LinkReady__Output } from './kinfolder/host/v1/LinkReady';
import type { LinkSend as _kinfolder_host_v1_LinkSend, LinkSend__Output as _kinfolder_host_v1_LinkSend__Output } from './kinfolder/host/v1/LinkSend';
import type { LinksClient as _kinfolder_host_v1_LinksClient, LinksDefinition as _kinfolder_host_v1_LinksDefinition } from './kinfolder/host/v1/Links';
import type { ListPanelsRequest as _kinfolder_host_v1_ListPanelsRequest, ListPanelsRequest__Output as _kinfolder_host_v1_ListPanelsRequest__Output } from './kinfolder/host/v1/ListPanelsRequest';
import type { ListPeersRequest as _kinfolder_host_v1_ListPeersRequest, ListPeersRequest__Output as _kinfolder_host_v1_ListPeersRequest__Output } from './kinfolder/host/v1/ListPeersRequest';
import type { ListRoomsRequest as _kinfolder_host_v1_ListRoomsRequest, ListRoomsRequest__Output as _kinfolder_host_v1_ListRoomsRequest__Output } from './kinfolder/host/v1/ListRoomsRequest';
import type { Panel as _kinfolder_host_v1_Panel, Panel__Output as _kinfolder_host_v1_Panel__Output } from './kinfolder/host/v1/Panel';
import type { PanelList as _kinfolder_host_v1_PanelList, PanelList__Output as _kinfolder_host_v1_PanelList__Output } from './kinfolder/host/v1/PanelList';
import type { Peer as _kinfolder_host_v1_Peer, Peer__Output as _kinfolder_host_v1_Peer__Output } from './kinfolder/host/v1/Peer';
import type { PeerEvent as _kinfolder_host_v1_PeerEvent, PeerEvent__Output as _kinfolder_host_v1_PeerEvent__Output } from './kinfolder/host/v1/PeerEvent';
import type { PeerList as _kinfolder_host_v1_PeerList, PeerList__Output as _kinfolder_host_v1_PeerList__Output } from './kinfolder/host/v1/PeerList';
import type { PeersClient as _kinfolder_host_v1_PeersClient, PeersDefinition as _kinfolder_host_v1_PeersDefinition } from './kinfolder/host/v1/Peers';
import type { RegisterPanelRequest as _kinfolder_host_v1_RegisterPanelRequest, RegisterPanelRequest__Output as _kinfolder_host_v1_RegisterPanelRequest__Output } from './kinfolder/host/v1/RegisterPanelRequest';
import type { RegisterPanelResponse as _kinfolder_host_v1_RegisterPanelResponse, RegisterPanelResponse__Output as _kinfolder_host_v1_RegisterPanelResponse__Output } from './kinfolder/host/v1/RegisterPanelResponse';
import type { SelfIdentity as _kinfolder_host_v1_SelfIdentity, SelfIdentity__Output as _kinfolder_host_v1_SelfIdentity__Output } from './kinfolder/host/v1/SelfIdentity';
import type { SignRequest as _kinfolder_host_v1_SignRequest, SignRequest__Output as _kinfolder_host_v1_SignRequest__Output } from './kinfolder/host/v1/SignRequest';
import type { SignResponse as _kinfolder_host_v1_SignResponse, SignResponse__Output as _kinfolder_host_v1_SignResponse__Output } from './kinfolder/host/v1/SignResponse';
import type { UiClient as _kinfolder_host_v1_UiClient, UiDefinition as _kinfolder_host_v1_UiDefinition } from './kinfolder/host/v1/Ui';
import type { WatchPeersRequest as _kinfolder_host_v1_WatchPeersRequest, WatchPeersRequest__Output as _kinfolder_host_v1_WatchPeersRequest__Output } from './kinfolder/host/v1/WatchPeersRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kinfolder: {
    host: {
      v1: {
        Chat: SubtypeConstructor<typeof grpc.Client, _kinfolder_host_v1_ChatClient> & { service: _kinfolder_host_v1_ChatDefinition }
        ChatHistoryRequest: MessageTypeDefinition<_kinfolder_host_v1_ChatHistoryRequest, _kinfolder_host_v1_ChatHistoryRequest__Output>
        ChatMessage: MessageTypeDefinition<_kinfolder_host_v1_ChatMessage, _kinfolder_host_v1_ChatMessage__Output>
        ChatMessageList: MessageTypeDefinition<_kinfolder_host_v1_ChatMessageList, _kinfolder_host_v1_ChatMessageList__Output>
        ChatRoom: MessageTypeDefinition<_kinfolder_host_v1_ChatRoom, _kinfolder_host_v1_ChatRoom__Output>
        ChatRoomList: MessageTypeDefinition<_kinfolder_host_v1_ChatRoomList, _kinfolder_host_v1_ChatRoomList__Output>
        ChatSendRequest: MessageTypeDefinition<_kinfolder_host_v1_ChatSendRequest, _kinfolder_host_v1_ChatSendRequest__Output>
        ChatSendResponse: MessageTypeDefinition<_kinfolder_host_v1_ChatSendResponse, _kinfolder_host_v1_ChatSendResponse__Output>
        ChatWatchRequest: MessageTypeDefinition<_kinfolder_host_v1_ChatWatchRequest, _kinfolder_host_v1_ChatWatchRequest__Output>
        GetSelfRequest: MessageTypeDefinition<_kinfolder_host_v1_GetSelfRequest, _kinfolder_host_v1_GetSelfRequest__Output>
        Identity: SubtypeConstructor<typeof grpc.Client, _kinfolder_host_v1_IdentityClient> & { service: _kinfolder_host_v1_IdentityDefinition }
        JoinRoomRequest: MessageTypeDefinition<_kinfolder_host_v1_JoinRoomRequest, _kinfolder_host_v1_JoinRoomRequest__Output>
        LinkDelivery: MessageTypeDefinition<_kinfolder_host_v1_LinkDelivery, _kinfolder_host_v1_LinkDelivery__Output>
        LinkError: MessageTypeDefinition<_kinfolder_host_v1_LinkError, _kinfolder_host_v1_LinkError__Output>
        LinkEvent: MessageTypeDefinition<_kinfolder_host_v1_LinkEvent, _kinfolder_host_v1_LinkEvent__Output>
        LinkReady: MessageTypeDefinition<_kinfolder_host_v1_LinkReady, _kinfolder_host_v1_LinkReady__Output>
        LinkSend: MessageTypeDefinition<_kinfolder_host_v1_LinkSend, _kinfolder_host_v1_LinkSend__Output>
        Links: SubtypeConstructor<typeof grpc.Client, _kinfolder_host_v1_LinksClient> & { service: _kinfolder_host_v1_LinksDefinition }
        ListPanelsRequest: MessageTypeDefinition<_kinfolder_host_v1_ListPanelsRequest, _kinfolder_host_v1_ListPanelsRequest__Output>
        ListPeersRequest: MessageTypeDefinition<_kinfolder_host_v1_ListPeersRequest, _kinfolder_host_v1_ListPeersRequest__Output>
        ListRoomsRequest: MessageTypeDefinition<_kinfolder_host_v1_ListRoomsRequest, _kinfolder_host_v1_ListRoomsRequest__Output>
        Panel: MessageTypeDefinition<_kinfolder_host_v1_Panel, _kinfolder_host_v1_Panel__Output>
        PanelList: MessageTypeDefinition<_kinfolder_host_v1_PanelList, _kinfolder_host_v1_PanelList__Output>
        Peer: MessageTypeDefinition<_kinfolder_host_v1_Peer, _kinfolder_host_v1_Peer__Output>
        PeerEvent: MessageTypeDefinition<_kinfolder_host_v1_PeerEvent, _kinfolder_host_v1_PeerEvent__Output>
        PeerList: MessageTypeDefinition<_kinfolder_host_v1_PeerList, _kinfolder_host_v1_PeerList__Output>
        Peers: SubtypeConstructor<typeof grpc.Client, _kinfolder_host_v1_PeersClient> & { service: _kinfolder_host_v1_PeersDefinition }
        RegisterPanelRequest: MessageTypeDefinition<_kinfolder_host_v1_RegisterPanelRequest, _kinfolder_host_v1_RegisterPanelRequest__Output>
        RegisterPanelResponse: MessageTypeDefinition<_kinfolder_host_v1_RegisterPanelResponse, _kinfolder_host_v1_RegisterPanelResponse__Output>
        SelfIdentity: MessageTypeDefinition<_kinfolder_host_v1_SelfIdentity, _kinfolder_host_v1_SelfIdentity__Output>
        SignRequest: MessageTypeDefinition<_kinfolder_host_v1_SignRequest, _kinfolder_host_v1_SignRequest__Output>
        SignResponse: MessageTypeDefinition<_kinfolder_host_v1_SignResponse, _kinfolder_host_v1_SignResponse__Output>
        Ui: SubtypeConstructor<typeof grpc.Client, _kinfolder_host_v1_UiClient> & { service: _kinfolder_host_v1_UiDefinition }
        WatchPeersRequest: MessageTypeDefinition<_kinfolder_host_v1_WatchPeersRequest, _kinfolder_host_v1_WatchPeersRequest__Output>
      }
    }
  }
}

