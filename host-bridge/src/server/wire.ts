/** Adapter objects to the contract's wire messages (server side: only this direction is needed). */
import type { HostChatMessage, HostChatRoom, HostPanel, HostPeer, HostPeerEvent } from '../adapter';
import type { ChatMessage } from '../../../proto/generated/kinfolder/host/v1/ChatMessage';
import type { ChatRoom } from '../../../proto/generated/kinfolder/host/v1/ChatRoom';
import type { Panel } from '../../../proto/generated/kinfolder/host/v1/Panel';
import type { Peer } from '../../../proto/generated/kinfolder/host/v1/Peer';
import type { PeerEvent } from '../../../proto/generated/kinfolder/host/v1/PeerEvent';

export function peerToWire(p: HostPeer): Peer {
  return {
    fingerprint: p.fingerprint,
    locationId: p.locationId,
    name: p.name,
    publicKeyArmored: p.publicKeyArmored,
    online: p.online,
    lastSeenMs: p.lastSeenMs,
  };
}

export function peerEventToWire(e: HostPeerEvent): PeerEvent {
  switch (e.kind) {
    case 'added':
      return { added: peerToWire(e.peer) };
    case 'changed':
      return { changed: peerToWire(e.peer) };
    case 'removed':
      return { removed: e.fingerprint };
  }
}

export function chatMessageToWire(m: HostChatMessage): ChatMessage {
  return { ...m };
}

export function chatRoomToWire(r: HostChatRoom): ChatRoom {
  return { id: r.id, title: r.title, members: [...r.members] };
}

export function panelToWire(p: HostPanel): Panel {
  return { pluginId: p.pluginId, id: p.id, title: p.title, icon: p.icon, url: p.url };
}
