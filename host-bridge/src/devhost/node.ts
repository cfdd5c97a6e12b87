/** DevhostNode: a small complete host node (identity, friends, secure links, chat, panels) behind HostAdapter. */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Observable, Subject } from 'rxjs';
import { CHAT_MAX_TEXT_BYTES, LINK_MAX_PAYLOAD_BYTES } from '../../../proto';
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
} from '../adapter';
import { HostError } from '../errors';
import { createCertificate } from './certificate';
import { ChatStore, ROOM_ID } from './chat';
import { DevhostError } from './errors';
import { FriendStore, type Friend } from './friends';
import { readFileIfExists, writeFileAtomic } from './fsutil';
import { loadOrCreateIdentity, type Identity, type KeyType } from './identity';
import { signBinding } from './links/binding';
import type { ChatFrame } from './links/frames';
import { LinkManager, type DataFrame, type LinkEvent, type LinkTimings } from './links/manager';
import { loadOrCreateTlsCredentials } from './links/tls-credentials';
import { PanelRegistry } from './panels';

export const DEVHOST_SOFTWARE = 'kinfolder-devhost/0.1.0';
const MAX_SERVICE_BYTES = 256;

export interface DevhostNodeOptions {
  dataDir: string;
  /** Display name; needed only when the identity is created. */
  name?: string;
  keyType?: KeyType;
  /**
   * TCP port of the link listener. 0: a fresh ephemeral port each start, not remembered.
   * Not given: the port remembered in `<dataDir>/node.json`, else an ephemeral one that is then remembered.
   */
  listenPort?: number;
  /** Listen and advertise address; loopback by default. */
  host?: string;
  log?: (line: string) => void;
  timings?: Partial<LinkTimings>;
  clock?: () => number;
}

interface NodeConfig {
  listenPort?: number;
}

export class DevhostNode implements HostAdapter {
  private readonly peerSubject = new Subject<HostPeerEvent>();
  private readonly chatSubject = new Subject<HostChatMessage>();
  private readonly noticeSubject = new Subject<LinkNotice>();
  private readonly linkEventSubject = new Subject<LinkEvent>();
  private readonly linkSubscribers = new Map<string, Set<(m: LinkInbound) => void>>();
  private readonly lastSeen = new Map<string, number>();
  private readonly panels = new PanelRegistry();
  private links?: LinkManager;
  private cert?: string;
  private state: 'created' | 'starting' | 'running' | 'stopped' = 'created';
  private readonly clock: () => number;
  private readonly log: (line: string) => void;

  readonly peerEvents: Observable<HostPeerEvent> = this.peerSubject.asObservable();
  readonly chatMessages: Observable<HostChatMessage> = this.chatSubject.asObservable();
  readonly linkNotices: Observable<LinkNotice> = this.noticeSubject.asObservable();
  /** Link ups, downs and refusals with their reasons (for logs, the UI and tests). */
  readonly linkEvents: Observable<LinkEvent> = this.linkEventSubject.asObservable();
  readonly panelEvents: Observable<HostPanel[]> = this.panels.events;

  private constructor(
    private readonly opts: DevhostNodeOptions,
    private readonly identity: Identity,
    private readonly friendStore: FriendStore,
    private readonly chat: ChatStore,
    private config: NodeConfig,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log ?? ((line) => process.stderr.write(`[devhost ${identity.displayName}] ${line}\n`));
  }

  static async create(opts: DevhostNodeOptions): Promise<DevhostNode> {
    const dataDir = path.resolve(opts.dataDir);
    const { identity } = await loadOrCreateIdentity({ dataDir, name: opts.name ?? '', keyType: opts.keyType });
    const log = opts.log ?? ((line: string) => process.stderr.write(`[devhost ${identity.displayName}] ${line}\n`));
    const friends = await FriendStore.open(dataDir, identity.fingerprint);
    const chat = await ChatStore.open(dataDir, log);
    const configText = await readFileIfExists(path.join(dataDir, 'node.json'));
    let config: NodeConfig = {};
    try {
      if (configText) config = JSON.parse(configText) as NodeConfig;
    } catch (err) {
      throw new DevhostError('STORE_CORRUPT', `${path.join(dataDir, 'node.json')}: ${(err as Error).message}`);
    }
    const node = new DevhostNode({ ...opts, dataDir, log }, identity, friends, chat, config);
    const port = node.configuredPort();
    if (port) node.cert = await createCertificate(identity, `${node.host}:${port}`);
    return node;
  }

  get dataDir(): string {
    return this.opts.dataDir;
  }

  private get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  private configuredPort(): number {
    if (this.opts.listenPort !== undefined) return this.opts.listenPort;
    return this.config.listenPort ?? 0;
  }

  /** Starts the link listener and dials every friend; resolves with the listen address. */
  async start(): Promise<string> {
    if (this.state !== 'created') throw new DevhostError('NOT_RUNNING', `node cannot start from state ${this.state}`);
    this.state = 'starting';
    const tls = await loadOrCreateTlsCredentials(this.opts.dataDir, this.identity.displayName);
    const binding = await signBinding(this.identity, tls.spkiSha256);
    const links = new LinkManager({
      self: { fingerprint: this.identity.fingerprint, locationId: this.identity.locationId },
      tls,
      binding,
      instance: randomBytes(16).toString('hex'),
      friends: this.friendStore,
      onFrame: (peer, frame) => this.onFrame(peer, frame),
      log: this.log,
      host: this.host,
      timings: this.opts.timings,
    });
    links.events.subscribe((e) => this.onLinkEvent(e));
    this.links = links;
    const port = await links.start(this.configuredPort());
    if (this.opts.listenPort === undefined && this.config.listenPort !== port) {
      this.config = { ...this.config, listenPort: port };
      await writeFileAtomic(path.join(this.opts.dataDir, 'node.json'), `${JSON.stringify(this.config, null, 2)}\n`, 0o600);
    }
    this.cert = await createCertificate(this.identity, links.address);
    this.state = 'running';
    return links.address;
  }

  /** Closes every socket and timer. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await this.links?.stop();
    await this.chat.flush();
    this.peerSubject.complete();
    this.chatSubject.complete();
    this.noticeSubject.complete();
    this.linkEventSubject.complete();
    this.panels.close();
  }

  /** Diagnostics: who dialled the live link to a friend, and how many connections with it are open. */
  linkInfo(fingerprint: string): { direction?: 'in' | 'out'; connections: number } {
    return this.links?.linkInfo(fingerprint) ?? { connections: 0 };
  }

  get listenAddress(): string | undefined {
    return this.state === 'running' ? this.links?.address : undefined;
  }

  // ------------------------------------------------------------------ identity and friends

  self(): HostSelf {
    const id = this.identity;
    return {
      fingerprint: id.fingerprint,
      locationId: id.locationId,
      displayName: id.displayName,
      publicKeyArmored: id.publicKeyArmored,
      keyAlgorithm: id.keyAlgorithm,
      hostSoftware: DEVHOST_SOFTWARE,
    };
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.identity.sign(message);
  }

  certificate(): string {
    if (!this.cert) throw new DevhostError('NOT_RUNNING', 'no listen port is known yet: start the node once');
    return this.cert;
  }

  friends(): Friend[] {
    return this.friendStore.list();
  }

  async addFriend(cert: string): Promise<HostPeer> {
    const { friend, isNew } = await this.friendStore.addCertificate(cert, this.clock());
    const peer = this.toPeer(friend);
    this.emitPeer(isNew ? { kind: 'added', peer } : { kind: 'changed', peer });
    this.links?.friendAdded(friend.fingerprint);
    return peer;
  }

  async removeFriend(fingerprint: string): Promise<void> {
    await this.friendStore.remove(fingerprint);
    this.links?.friendRemoved(fingerprint);
    this.lastSeen.delete(fingerprint);
    this.emitPeer({ kind: 'removed', fingerprint });
  }

  peers(): HostPeer[] {
    return this.friendStore.list().map((f) => this.toPeer(f));
  }

  /** Resolves true once the friend is online, false after `timeoutMs` (or on abort, or stop). */
  whenOnline(fingerprint: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.links?.isOnline(fingerprint)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        sub.unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      const sub = this.peerEvents.subscribe({
        next: (e) => {
          if (e.kind === 'changed' && e.peer.fingerprint === fingerprint && e.peer.online) done(true);
        },
        complete: () => done(false),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private toPeer(f: Friend): HostPeer {
    return {
      fingerprint: f.fingerprint,
      locationId: f.locationId,
      name: f.name,
      publicKeyArmored: f.publicKeyArmored,
      online: this.links?.isOnline(f.fingerprint) ?? false,
      lastSeenMs: this.lastSeen.get(f.fingerprint) ?? 0,
    };
  }

  private emitPeer(e: HostPeerEvent): void {
    if (this.state !== 'stopped') this.peerSubject.next(e);
  }

  private onLinkEvent(e: LinkEvent): void {
    if (this.state === 'stopped') return;
    this.linkEventSubject.next(e);
    if (e.kind === 'up' || e.kind === 'down') {
      this.lastSeen.set(e.peer, this.clock());
      const f = this.friendStore.get(e.peer);
      if (f) this.emitPeer({ kind: 'changed', peer: this.toPeer(f) });
    } else if (e.kind === 'address') {
      this.friendStore.updateAddress(e.peer, e.address).catch((err) => this.log(`could not save new address of ${e.peer}: ${(err as Error).message}`));
    }
  }

  // ------------------------------------------------------------------ links

  async sendLink(peer: string, service: string, payload: Buffer, signal?: AbortSignal): Promise<void> {
    const serviceBytes = Buffer.byteLength(service, 'utf8');
    if (serviceBytes === 0 || serviceBytes > MAX_SERVICE_BYTES) throw new HostError('INVALID_ARGUMENT', `service id must be 1..${MAX_SERVICE_BYTES} bytes`);
    if (!this.friendStore.get(peer)) throw new HostError('NOT_FOUND', `${peer} is not a friend`);
    if (payload.length > LINK_MAX_PAYLOAD_BYTES) {
      throw new HostError('RESOURCE_EXHAUSTED', `payload of ${payload.length} bytes exceeds ${LINK_MAX_PAYLOAD_BYTES}`);
    }
    const links = this.links;
    if (this.state !== 'running' || !links?.isOnline(peer)) throw new HostError('UNAVAILABLE', `${peer} is offline`);
    try {
      await links.send(peer, { kind: 'link', service, payload }, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new HostError('UNAVAILABLE', `link to ${peer} closed: ${(err as Error).message}`);
    }
  }

  holdLinks(): () => void {
    return this.links?.holdInbound() ?? (() => undefined);
  }

  linkMessages(service: string): Observable<LinkInbound> {
    return new Observable<LinkInbound>((sub) => {
      let set = this.linkSubscribers.get(service);
      if (!set) this.linkSubscribers.set(service, (set = new Set()));
      const deliver = (m: LinkInbound) => sub.next(m);
      set.add(deliver);
      return () => {
        set.delete(deliver);
        if (set.size === 0 && this.linkSubscribers.get(service) === set) this.linkSubscribers.delete(service);
      };
    });
  }

  private onFrame(peer: string, frame: DataFrame): void {
    if (this.state === 'stopped') return;
    this.lastSeen.set(peer, this.clock());
    switch (frame.kind) {
      case 'link': {
        const subs = this.linkSubscribers.get(frame.service);
        if (!subs || subs.size === 0) {
          // Tell the sender's plugin, rather than let its bytes vanish.
          this.links?.send(peer, { kind: 'linkNotice', service: frame.service, code: 'NOT_FOUND', message: `no plugin listening on service ${frame.service}` })
            .catch(() => undefined);
          return;
        }
        const m: LinkInbound = { peer, service: frame.service, payload: frame.payload };
        for (const deliver of [...subs]) deliver(m);
        return;
      }
      case 'linkNotice':
        this.noticeSubject.next({ peer, service: frame.service, code: frame.code, message: frame.message });
        return;
      case 'chat':
        void this.onChatFrame(peer, frame).catch((err) => this.log(`chat from ${peer} dropped: ${(err as Error).message}`));
        return;
    }
  }

  // ------------------------------------------------------------------ chat

  async sendChat(to: ChatTarget, text: string): Promise<{ message: HostChatMessage; deliveredTo: string[] }> {
    if (text.length === 0 || Buffer.byteLength(text, 'utf8') > CHAT_MAX_TEXT_BYTES) {
      throw new HostError('INVALID_ARGUMENT', `chat text must be 1..${CHAT_MAX_TEXT_BYTES} bytes of UTF-8`);
    }
    const self = this.identity;
    const base = { id: randomBytes(16).toString('hex'), from: self.fingerprint, fromName: self.displayName, text, sentAtMs: this.clock(), outgoing: true };
    let message: HostChatMessage;
    let recipients: string[];
    let frame: ChatFrame;
    if ('peer' in to) {
      if (!this.friendStore.get(to.peer)) throw new HostError('NOT_FOUND', `${to.peer} is not a friend`);
      message = { ...base, peer: to.peer, room: '' };
      recipients = [to.peer];
      frame = { kind: 'chat', id: base.id, text, sentAtMs: base.sentAtMs };
    } else {
      const room = this.chat.room(to.room);
      if (!room) throw new HostError('NOT_FOUND', `no room ${to.room}`);
      message = { ...base, peer: '', room: room.id };
      recipients = room.members.filter((m) => m !== self.fingerprint && this.friendStore.get(m));
      frame = { kind: 'chat', id: base.id, text, sentAtMs: base.sentAtMs, room };
    }
    const deliveredTo: string[] = [];
    await Promise.all(
      recipients.map(async (fp) => {
        if (!this.links?.isOnline(fp)) return;
        try {
          await this.links.send(fp, frame);
          deliveredTo.push(fp);
        } catch {
          // Went offline while sending: not delivered, which deliveredTo says.
        }
      }),
    );
    await this.chat.record(message);
    if (this.state !== 'stopped') this.chatSubject.next(message);
    return { message, deliveredTo: deliveredTo.sort() };
  }

  private async onChatFrame(peer: string, frame: ChatFrame): Promise<void> {
    const friend = this.friendStore.get(peer);
    if (!friend) return;
    if (Buffer.byteLength(frame.text, 'utf8') > CHAT_MAX_TEXT_BYTES || frame.text.length === 0) throw new Error('text size out of bounds');
    let roomId = '';
    if (frame.room) {
      if (!ROOM_ID.test(frame.room.id)) throw new Error(`bad room id ${JSON.stringify(frame.room.id)}`);
      roomId = frame.room.id;
      const known = this.chat.room(roomId);
      if (!known) {
        // Someone invited us: the room exists here from its first message on.
        const members = [...new Set([...frame.room.members, peer, this.identity.fingerprint])].sort();
        await this.chat.putRoom({ id: roomId, title: frame.room.title || roomId, members });
      } else if (!known.members.includes(peer)) {
        await this.chat.putRoom({ ...known, members: [...known.members, peer].sort() });
      }
    }
    const message: HostChatMessage = {
      id: frame.id,
      from: peer,
      fromName: friend.name,
      peer: roomId ? '' : peer,
      room: roomId,
      text: frame.text,
      sentAtMs: frame.sentAtMs,
      outgoing: false,
    };
    await this.chat.record(message);
    if (this.state !== 'stopped') this.chatSubject.next(message);
  }

  async joinRoom(room: HostChatRoom): Promise<HostChatRoom> {
    if (!ROOM_ID.test(room.id)) throw new HostError('INVALID_ARGUMENT', 'room id must be 1..128 chars of [A-Za-z0-9._:-]');
    const members = [...new Set([...room.members, this.identity.fingerprint])].sort();
    const stored: HostChatRoom = { id: room.id, title: room.title || this.chat.room(room.id)?.title || room.id, members };
    await this.chat.putRoom(stored);
    return { ...stored, members: [...members] };
  }

  listRooms(): HostChatRoom[] {
    return this.chat.listRooms();
  }

  chatHistory(of: ChatTarget, limit: number): HostChatMessage[] {
    return this.chat.historyOf(of, limit);
  }

  // ------------------------------------------------------------------ panels

  registerPanel(panel: HostPanel): { panelToken: string } {
    return this.panels.register(panel);
  }

  listPanels(): HostPanel[] {
    return this.panels.list();
  }

  panelToken(pluginId: string, panelId: string): string | undefined {
    return this.panels.token(pluginId, panelId);
  }
}
