/**
 * HostAdapter: what a host node must give the contract server. The devhost implements it;
 * a bridge to a real host (Retroshare's JSON API) implements it too. The gRPC server in
 * `server/` turns it into `proto/host.proto`, adding tokens, manifests and capabilities.
 */
import type { Observable } from 'rxjs';

export interface HostSelf {
  fingerprint: string; // 40 upper-case hex
  locationId: string;
  displayName: string;
  publicKeyArmored: string;
  keyAlgorithm: 'ed25519' | 'rsa3072' | string;
  hostSoftware: string;
}

export interface HostPeer {
  fingerprint: string;
  locationId: string;
  name: string;
  publicKeyArmored: string;
  online: boolean;
  lastSeenMs: number;
}

export type HostPeerEvent =
  | { kind: 'added'; peer: HostPeer }
  | { kind: 'changed'; peer: HostPeer }
  | { kind: 'removed'; fingerprint: string };

/** A Links message that arrived from a friend over the host's secure link. */
export interface LinkInbound {
  peer: string; // sender fingerprint, as authenticated by the secure link
  service: string;
  payload: Buffer;
}

/** Something about an earlier send that the host learned later (e.g. no plugin listening there). */
export interface LinkNotice {
  peer: string;
  service: string;
  code: 'UNAVAILABLE' | 'NOT_FOUND' | 'RESOURCE_EXHAUSTED';
  message: string;
}

export interface HostChatMessage {
  id: string;
  from: string;
  fromName: string;
  peer: string; // one to one: the other party; '' for a room
  room: string; // '' for one to one
  text: string;
  sentAtMs: number;
  outgoing: boolean;
}

export interface HostChatRoom {
  id: string;
  title: string;
  members: string[];
}

export type ChatTarget = { peer: string } | { room: string };

export interface HostPanel {
  pluginId: string;
  id: string;
  title: string;
  icon: string;
  url: string;
}

export interface HostAdapter {
  self(): HostSelf;
  /**
   * Signs `message` with the host's PGP key: a binary OpenPGP detached signature. The
   * server has already bound the message to the calling plugin (`pluginSignedMessage`).
   */
  sign(message: Uint8Array): Promise<Uint8Array>;

  peers(): HostPeer[];
  readonly peerEvents: Observable<HostPeerEvent>;

  /**
   * Sends a Links payload to a friend's plugin service over the secure link. Resolves once
   * the link took the bytes (that is the flow control); rejects with a HostError
   * (NOT_FOUND: not a friend; UNAVAILABLE: offline; RESOURCE_EXHAUSTED: too large).
   */
  sendLink(peer: string, service: string, payload: Buffer, signal?: AbortSignal): Promise<void>;
  /** Deliveries from friends for one service. */
  linkMessages(service: string): Observable<LinkInbound>;
  /**
   * Stops reading what friends send on their links until every hold is released, so that a
   * plugin that does not keep up makes the senders wait (TCP backpressure) instead of the
   * host queueing for it. Optional: a host that can not pause its links drops past its queue.
   */
  holdLinks?(): () => void;
  readonly linkNotices: Observable<LinkNotice>;

  sendChat(to: ChatTarget, text: string): Promise<{ message: HostChatMessage; deliveredTo: string[] }>;
  readonly chatMessages: Observable<HostChatMessage>;
  joinRoom(room: HostChatRoom): Promise<HostChatRoom>;
  listRooms(): HostChatRoom[];
  chatHistory(of: ChatTarget, limit: number): HostChatMessage[];

  /** Registers (or replaces) a plugin's panel; returns the token the host will hand the panel. */
  registerPanel(panel: HostPanel): { panelToken: string };
  listPanels(): HostPanel[];
}
