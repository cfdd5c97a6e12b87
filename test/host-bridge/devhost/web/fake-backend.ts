/** An in-memory DevhostUiBackend for the web UI tests: rxjs Subjects to push from, and a record of every call. */
import { Subject } from 'rxjs';
import type { ChatTarget, HostChatMessage, HostChatRoom, HostPanel, HostPeer, HostPeerEvent, HostSelf } from '../../../../host-bridge/src/adapter';
import type { DevhostUiBackend } from '../../../../host-bridge/src/devhost/web/backend';

export const SELF_FP = 'AAAA0000AAAA0000AAAA0000AAAA0000AAAA0000';
export const BOB_FP = 'B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0';
export const CAROL_FP = 'C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0';
export const PANEL_TOKEN = 'panel-secret-token-123';

export function peer(fingerprint: string, name: string, online = true): HostPeer {
  return { fingerprint, locationId: `loc-${name}`, name, publicKeyArmored: '', online, lastSeenMs: 1000 };
}

export function chatMessage(over: Partial<HostChatMessage> = {}): HostChatMessage {
  return { id: 'm1', from: BOB_FP, fromName: 'Bob', peer: BOB_FP, room: '', text: 'hello', sentAtMs: 1_700_000_000_000, outgoing: false, ...over };
}

export class FakeBackend implements DevhostUiBackend {
  readonly peerEvents = new Subject<HostPeerEvent>();
  readonly chatMessages = new Subject<HostChatMessage>();
  readonly panelEvents = new Subject<HostPanel[]>();
  readonly calls: { method: string; args: unknown[] }[] = [];

  selfIdentity: HostSelf = {
    fingerprint: SELF_FP, locationId: 'loc-alice', displayName: 'Alice', publicKeyArmored: 'PUBKEY',
    keyAlgorithm: 'ed25519', hostSoftware: 'test',
  };
  cert = '-----BEGIN CERT-----\nalice\n-----END CERT-----';
  peerList: HostPeer[] = [peer(BOB_FP, 'Bob', true), peer(CAROL_FP, 'Carol', false)];
  rooms: HostChatRoom[] = [{ id: 'family', title: 'Family', members: [SELF_FP, BOB_FP] }];
  history: HostChatMessage[] = [chatMessage()];
  panels: HostPanel[] = [{ pluginId: 'kinfolder', id: 'folders', title: 'Shared folders', icon: '📁', url: 'http://127.0.0.1:9/panel/' }];
  /** Set to make the next call of that method throw. */
  failWith: Partial<Record<'addFriend' | 'removeFriend' | 'sendChat' | 'chatHistory', unknown>> = {};

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const err = this.failWith[method as keyof FakeBackend['failWith']];
    if (err !== undefined) throw err;
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  self(): HostSelf { return this.selfIdentity; }
  certificate(): string { return this.cert; }
  peers(): HostPeer[] { return this.peerList; }
  async addFriend(cert: string): Promise<HostPeer> {
    this.record('addFriend', cert);
    const p = peer('D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0', 'Dave', false);
    this.peerList = [...this.peerList, p];
    return p;
  }
  async removeFriend(fingerprint: string): Promise<void> {
    this.record('removeFriend', fingerprint);
    this.peerList = this.peerList.filter((p) => p.fingerprint !== fingerprint);
  }
  async sendChat(to: ChatTarget, text: string): Promise<{ message: HostChatMessage; deliveredTo: string[] }> {
    this.record('sendChat', to, text);
    const message = chatMessage({
      id: 'sent-1', from: SELF_FP, fromName: 'Alice', outgoing: true, text,
      peer: 'peer' in to ? to.peer : '', room: 'room' in to ? to.room : '',
    });
    return { message, deliveredTo: 'peer' in to ? [to.peer] : [BOB_FP] };
  }
  listRooms(): HostChatRoom[] { return this.rooms; }
  chatHistory(of: ChatTarget, limit: number): HostChatMessage[] {
    this.record('chatHistory', of, limit);
    return this.history.slice(-limit);
  }
  listPanels(): HostPanel[] { return this.panels; }
  panelToken(pluginId: string, panelId: string): string | undefined {
    return this.panels.some((p) => p.pluginId === pluginId && p.id === panelId) ? PANEL_TOKEN : undefined;
  }
}
