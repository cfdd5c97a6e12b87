/** Domain shapes of the host contract as the sidecar uses them: camelCase plain objects, bytes as Uint8Array. */
import type { HostClientErrorCode } from './errors';

export type HostClientState = 'connecting' | 'ready' | 'offline';

export interface HostIdentity {
  fingerprint: string;
  locationId: string;
  displayName: string;
  publicKeyArmored: string;
  keyAlgorithm: string;
  pluginId: string;
  contractVersion: string;
  hostSoftware: string;
}

export interface HostSignature {
  signature: Uint8Array;
  armored: string;
}

export interface Peer {
  fingerprint: string;
  locationId: string;
  name: string;
  publicKeyArmored: string;
  online: boolean;
  lastSeenMs: number;
}

export type PeerChange =
  | { kind: 'snapshot'; peers: Peer[] }
  | { kind: 'added'; peer: Peer }
  | { kind: 'changed'; peer: Peer }
  | { kind: 'removed'; fingerprint: string };

export type ChatTarget = { peer: string } | { room: string };

export interface ChatMessage {
  id: string;
  from: string;
  fromName: string;
  peer: string;
  room: string;
  text: string;
  sentAtMs: number;
  outgoing: boolean;
}

export interface ChatSent {
  message: ChatMessage;
  deliveredTo: string[];
}

export interface ChatRoom {
  id: string;
  title: string;
  members: string[];
}

export interface PanelInput {
  id: string;
  title: string;
  icon: string;
  url: string;
}

export interface Panel extends PanelInput {
  pluginId: string;
}

export interface RegisteredPanel {
  panel: Panel;
  panelToken: string;
}

/** What the plugin writes on the Links stream. */
export interface LinkFrame {
  id: number;
  peer: string;
  service: string;
  payload: Uint8Array;
}

/** What a friend's plugin sent us, the sender as the host's secure link authenticated it. */
export interface LinkMessage {
  peer: string;
  service: string;
  payload: Uint8Array;
}

/** The host could not take a frame (id = its LinkFrame.id) or learned later that a send failed (id 0). */
export interface LinkError {
  id: number;
  code: HostClientErrorCode;
  message: string;
  peer: string;
}

export interface LinkReady {
  maxPayloadBytes: number;
  services: string[];
}
