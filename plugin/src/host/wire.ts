/** The only place wire types meet domain types: one fromWire/toWire pair per message. */
import { status } from '@grpc/grpc-js';
import type { ChatMessage__Output } from '../../../proto/generated/kinfolder/host/v1/ChatMessage';
import type { ChatRoom__Output } from '../../../proto/generated/kinfolder/host/v1/ChatRoom';
import type { ChatSendResponse__Output } from '../../../proto/generated/kinfolder/host/v1/ChatSendResponse';
import type { LinkDelivery__Output } from '../../../proto/generated/kinfolder/host/v1/LinkDelivery';
import type { LinkError__Output } from '../../../proto/generated/kinfolder/host/v1/LinkError';
import type { LinkReady__Output } from '../../../proto/generated/kinfolder/host/v1/LinkReady';
import type { LinkSend__Output } from '../../../proto/generated/kinfolder/host/v1/LinkSend';
import type { Panel__Output } from '../../../proto/generated/kinfolder/host/v1/Panel';
import type { Peer__Output } from '../../../proto/generated/kinfolder/host/v1/Peer';
import type { PeerEvent__Output } from '../../../proto/generated/kinfolder/host/v1/PeerEvent';
import type { RegisterPanelResponse__Output } from '../../../proto/generated/kinfolder/host/v1/RegisterPanelResponse';
import type { SelfIdentity__Output } from '../../../proto/generated/kinfolder/host/v1/SelfIdentity';
import type { SignResponse__Output } from '../../../proto/generated/kinfolder/host/v1/SignResponse';
import { HostClientError, statusName } from './errors';
import type {
  ChatMessage,
  ChatRoom,
  ChatSent,
  HostIdentity,
  HostSignature,
  LinkError,
  LinkFrame,
  LinkMessage,
  LinkReady,
  Panel,
  Peer,
  PeerChange,
  RegisteredPanel,
} from './types';

// Buffers from the wire may be views into a pooled slab: copy into a plain Uint8Array of their own.
const bytesFromWire = (b: Buffer): Uint8Array => new Uint8Array(b);
// The same object when it is a Buffer already: a payload with room in front is known by its object (see proto/link-wire.ts).
const bytesToWire = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
/**
 * A delivery's payload as a view of the decoded gRPC message, not a copy: payloads carry the
 * blocks of every transfer, and gRPC hands each decoded message to us alone.
 */
const payloadFromWire = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new HostClientError('INTERNAL', `host sent ${what} without its required field`);
  return value;
}

export function identityFromWire(w: SelfIdentity__Output): HostIdentity {
  return {
    fingerprint: w.fingerprint,
    locationId: w.locationId,
    displayName: w.displayName,
    publicKeyArmored: w.publicKeyArmored,
    keyAlgorithm: w.keyAlgorithm,
    pluginId: w.pluginId,
    contractVersion: w.contractVersion,
    hostSoftware: w.hostSoftware,
  };
}
export function identityToWire(d: HostIdentity): SelfIdentity__Output {
  return { ...d };
}

export function signatureFromWire(w: SignResponse__Output): HostSignature {
  return { signature: bytesFromWire(w.signature), armored: w.signatureArmored };
}
export function signatureToWire(d: HostSignature): SignResponse__Output {
  return { signature: bytesToWire(d.signature), signatureArmored: d.armored };
}

export function peerFromWire(w: Peer__Output): Peer {
  return {
    fingerprint: w.fingerprint,
    locationId: w.locationId,
    name: w.name,
    publicKeyArmored: w.publicKeyArmored,
    online: w.online,
    lastSeenMs: Number(w.lastSeenMs),
  };
}
export function peerToWire(d: Peer): Peer__Output {
  return { ...d };
}

export function peerChangeFromWire(w: PeerEvent__Output): PeerChange {
  switch (w.event) {
    case 'snapshot':
      return { kind: 'snapshot', peers: required(w.snapshot, 'PeerEvent.snapshot').peers.map(peerFromWire) };
    case 'added':
      return { kind: 'added', peer: peerFromWire(required(w.added, 'PeerEvent.added')) };
    case 'changed':
      return { kind: 'changed', peer: peerFromWire(required(w.changed, 'PeerEvent.changed')) };
    case 'removed':
      return { kind: 'removed', fingerprint: required(w.removed, 'PeerEvent.removed') };
    default:
      throw new HostClientError('INTERNAL', `host sent a PeerEvent of unknown kind ${String(w.event)}`);
  }
}
export function peerChangeToWire(d: PeerChange): PeerEvent__Output {
  switch (d.kind) {
    case 'snapshot':
      return { event: 'snapshot', snapshot: { peers: d.peers.map(peerToWire) } };
    case 'added':
      return { event: 'added', added: peerToWire(d.peer) };
    case 'changed':
      return { event: 'changed', changed: peerToWire(d.peer) };
    case 'removed':
      return { event: 'removed', removed: d.fingerprint };
  }
}

export function chatMessageFromWire(w: ChatMessage__Output): ChatMessage {
  return {
    id: w.id,
    from: w.from,
    fromName: w.fromName,
    peer: w.peer,
    room: w.room,
    text: w.text,
    sentAtMs: Number(w.sentAtMs),
    outgoing: w.outgoing,
  };
}
export function chatMessageToWire(d: ChatMessage): ChatMessage__Output {
  return { ...d };
}

export function chatSentFromWire(w: ChatSendResponse__Output): ChatSent {
  return { message: chatMessageFromWire(required(w.message, 'ChatSendResponse.message')), deliveredTo: [...w.deliveredTo] };
}
export function chatSentToWire(d: ChatSent): ChatSendResponse__Output {
  return { message: chatMessageToWire(d.message), deliveredTo: [...d.deliveredTo] };
}

export function chatRoomFromWire(w: ChatRoom__Output): ChatRoom {
  return { id: w.id, title: w.title, members: [...w.members] };
}
export function chatRoomToWire(d: ChatRoom): ChatRoom__Output {
  return { id: d.id, title: d.title, members: [...d.members] };
}

export function panelFromWire(w: Panel__Output): Panel {
  return { pluginId: w.pluginId, id: w.id, title: w.title, icon: w.icon, url: w.url };
}
export function panelToWire(d: Panel): Panel__Output {
  return { pluginId: d.pluginId, id: d.id, title: d.title, icon: d.icon, url: d.url };
}

export function registeredPanelFromWire(w: RegisterPanelResponse__Output): RegisteredPanel {
  return { panel: panelFromWire(required(w.panel, 'RegisterPanelResponse.panel')), panelToken: w.panelToken };
}
export function registeredPanelToWire(d: RegisteredPanel): RegisterPanelResponse__Output {
  return { panel: panelToWire(d.panel), panelToken: d.panelToken };
}

export function linkFrameFromWire(w: LinkSend__Output): LinkFrame {
  return { id: Number(w.id), peer: w.peer, service: w.service, payload: bytesFromWire(w.payload) };
}
export function linkFrameToWire(d: LinkFrame): LinkSend__Output {
  return { id: d.id, peer: d.peer, service: d.service, payload: bytesToWire(d.payload) };
}

export function linkMessageFromWire(w: LinkDelivery__Output): LinkMessage {
  return { peer: w.peer, service: w.service, payload: payloadFromWire(w.payload) };
}
export function linkMessageToWire(d: LinkMessage): LinkDelivery__Output {
  return { peer: d.peer, service: d.service, payload: bytesToWire(d.payload) };
}

export function linkErrorFromWire(w: LinkError__Output): LinkError {
  return { id: Number(w.id), code: statusName(w.code), message: w.message, peer: w.peer };
}
export function linkErrorToWire(d: LinkError): LinkError__Output {
  return { id: d.id, code: status[d.code], message: d.message, peer: d.peer };
}

export function linkReadyFromWire(w: LinkReady__Output): LinkReady {
  return { maxPayloadBytes: w.maxPayloadBytes, services: [...w.services] };
}
export function linkReadyToWire(d: LinkReady): LinkReady__Output {
  return { maxPayloadBytes: d.maxPayloadBytes, services: [...d.services] };
}
