/** An in-memory HostAdapter for tests: a real openpgp ed25519 key, settable friends, recordable and blockable links. */
import * as openpgp from 'openpgp';
import { Subject } from 'rxjs';
import { filter, type Observable } from 'rxjs';
import type {
  ChatTarget,
  HostAdapter,
  HostChatMessage,
  HostChatRoom,
  HostPanel,
  HostPeer,
  HostPeerEvent,
  HostSelf,
  LinkInbound,
  LinkNotice,
} from '../../host-bridge/src/adapter';
import { HostError } from '../../host-bridge/src/errors';

export interface FakeKey {
  privateKey: openpgp.PrivateKey;
  publicKeyArmored: string;
  fingerprint: string;
}

export async function generateFakeKey(name = 'Fake Host'): Promise<FakeKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name }],
    format: 'object',
  });
  return { privateKey, publicKeyArmored: publicKey.armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

export function fakePeer(n: number, over: Partial<HostPeer> = {}): HostPeer {
  return {
    fingerprint: n.toString(16).toUpperCase().padStart(40, 'A'),
    locationId: `loc${n}`,
    name: `friend ${n}`,
    publicKeyArmored: '',
    online: true,
    lastSeenMs: 0,
    ...over,
  };
}

export interface LinkSendRecord {
  peer: string;
  service: string;
  payload: Buffer;
}

export class FakeHostAdapter implements HostAdapter {
  readonly peerEvents = new Subject<HostPeerEvent>();
  readonly linkNotices = new Subject<LinkNotice>();
  readonly chatMessages = new Subject<HostChatMessage>();
  readonly inbound = new Subject<LinkInbound>();
  readonly sent: LinkSendRecord[] = [];
  /** Every call to sendLink, in order, including those still pending. */
  sendCalls = 0;
  /** Most sendLink calls that were pending at once. */
  maxPendingSends = 0;
  private pendingSends = 0;
  /** sendLink calls still running. */
  get pendingSendCount(): number {
    return this.pendingSends;
  }
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private friends = new Map<string, HostPeer>();
  private rooms = new Map<string, HostChatRoom>();
  private panels = new Map<string, HostPanel>();
  private messages: HostChatMessage[] = [];
  private seq = 0;

  constructor(
    readonly key: FakeKey,
    private readonly now: () => number = () => 1_700_000_000_000,
  ) {}

  self(): HostSelf {
    return {
      fingerprint: this.key.fingerprint,
      locationId: 'fake-location',
      displayName: 'Fake Host',
      publicKeyArmored: this.key.publicKeyArmored,
      keyAlgorithm: 'ed25519',
      hostSoftware: 'kinfolder-fakehost/0.0.0',
    };
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return openpgp.sign({
      message: await openpgp.createMessage({ binary: message }),
      signingKeys: this.key.privateKey,
      detached: true,
      format: 'binary',
    }) as Promise<Uint8Array>;
  }

  // ---- peers

  setPeers(peers: HostPeer[]): void {
    this.friends = new Map(peers.map((p) => [p.fingerprint, p]));
  }
  upsertPeer(peer: HostPeer): void {
    const kind = this.friends.has(peer.fingerprint) ? 'changed' : 'added';
    this.friends.set(peer.fingerprint, peer);
    this.peerEvents.next({ kind, peer });
  }
  removePeer(fingerprint: string): void {
    this.friends.delete(fingerprint);
    this.peerEvents.next({ kind: 'removed', fingerprint });
  }
  peers(): HostPeer[] {
    return [...this.friends.values()];
  }

  // ---- links

  /** Until release() is called, every sendLink waits. */
  blockSends(): void {
    if (!this.gate) this.gate = new Promise((r) => (this.openGate = r));
  }
  releaseSends(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  async sendLink(peer: string, service: string, payload: Buffer, signal?: AbortSignal): Promise<void> {
    this.sendCalls++;
    this.pendingSends++;
    this.maxPendingSends = Math.max(this.maxPendingSends, this.pendingSends);
    try {
      while (this.gate) {
        await this.gate;
        signal?.throwIfAborted();
      }
      const friend = this.friends.get(peer);
      if (!friend) throw new HostError('NOT_FOUND', `${peer} is not a friend`);
      if (!friend.online) throw new HostError('UNAVAILABLE', `${peer} is offline`);
      this.sent.push({ peer, service, payload: Buffer.from(payload) });
    } finally {
      this.pendingSends--;
    }
  }
  linkMessages(service: string): Observable<LinkInbound> {
    return this.inbound.pipe(filter((m) => m.service === service));
  }
  deliver(m: LinkInbound): void {
    this.inbound.next(m);
  }

  // ---- chat

  async sendChat(to: ChatTarget, text: string): Promise<{ message: HostChatMessage; deliveredTo: string[] }> {
    const message: HostChatMessage = {
      id: `m${++this.seq}`,
      from: this.key.fingerprint,
      fromName: 'Fake Host',
      peer: 'peer' in to ? to.peer : '',
      room: 'room' in to ? to.room : '',
      text,
      sentAtMs: this.now(),
      outgoing: true,
    };
    this.messages.push(message);
    this.chatMessages.next(message);
    const deliveredTo = 'peer' in to ? (this.friends.get(to.peer)?.online ? [to.peer] : []) : (this.rooms.get(to.room)?.members ?? []);
    return { message, deliveredTo };
  }
  /** A message from a friend, as if it arrived over the host's chat. */
  receiveChat(m: Omit<HostChatMessage, 'id' | 'outgoing' | 'sentAtMs'>): HostChatMessage {
    const message = { ...m, id: `m${++this.seq}`, outgoing: false, sentAtMs: this.now() };
    this.messages.push(message);
    this.chatMessages.next(message);
    return message;
  }
  async joinRoom(room: HostChatRoom): Promise<HostChatRoom> {
    const stored = { ...room, members: [...new Set([...room.members, this.key.fingerprint])] };
    this.rooms.set(room.id, stored);
    return stored;
  }
  listRooms(): HostChatRoom[] {
    return [...this.rooms.values()];
  }
  chatHistory(of: ChatTarget, limit: number): HostChatMessage[] {
    const match = this.messages.filter((m) => ('peer' in of ? m.peer === of.peer || (m.from === of.peer && m.room === '') : m.room === of.room));
    return match.slice(-limit);
  }

  // ---- ui

  registerPanel(panel: HostPanel): { panelToken: string } {
    this.panels.set(`${panel.pluginId}/${panel.id}`, panel);
    return { panelToken: `panel-token-${panel.pluginId}-${panel.id}` };
  }
  listPanels(): HostPanel[] {
    return [...this.panels.values()];
  }
}
