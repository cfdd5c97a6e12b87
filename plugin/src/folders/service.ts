/**
 * The folders this node holds, and their sync with friends over the host's Links.
 *
 * - Sessions: one per (peer, folder) for every online friend who is an active member of a
 *   folder we hold; also one made on demand when a friend writes about a folder we hold (a
 *   non-member's session refuses it once). Offline peers' sessions are closed; a lost Links
 *   delivery (the host's drop notice) makes the peer's sessions say their vectors again.
 * - Invitations: a member sends the whole manifest chain to a friend who answered
 *   UNKNOWN_FOLDER; if its signatures verify and its head makes us a member, it is kept as a
 *   pending invitation until the user accepts (joining into a chosen folder) or declines.
 * - Every action of the panel is checked here against the folder's current manifest.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BehaviorSubject, Subject, filter, type Observable, type Subscription } from 'rxjs';
import type { Member, Role } from '../acl';
import { HostClientError, type ChatMessage, type ChatRoom, type ChatSent, type ChatTarget, type HostClientState, type HostIdentity, type HostSignature, type LinkError, type LinkMessage, type Peer } from '../host';
import type { Fingerprint, SignatureVerifier } from '../log';
import { FolderReplica, isReplicaError, type FeedCutReport, type ManifestEdit } from '../replica';
import type { FsTraits } from '../scan';
import { Store } from '../store';
import { decodeMessage, encodeEnvelope, isBlockBytes, openEnvelope, type SyncMessage } from '../sync';
import { Coalescer } from './coalesce';
import { ServiceError, isServiceError } from './errors';
import { INBOUND_HIGH_BYTES, INBOUND_LOW_BYTES, INBOUND_STALL_MS, InboundGate } from './inbound-gate';
import { checkInvitation } from './invitation';
import { Registry } from './registry';
import { SharedFolder } from './shared-folder';
import { openPathsUnder } from './open-files';
import { folderStatus, validPart, type PeerFacts } from './status';
import type { ChatLine, FolderService, FolderStatus, FolderSummary, Friend, Invitation, MemberEdit, MemberView, ServiceEvent } from './types';
import { FolderViews } from './views';

/** The part of the host client the service uses (HostClient has it all). */
export interface FolderHost {
  readonly state$: Observable<HostClientState>;
  readonly peers$: Observable<Peer[]>;
  readonly chat$: Observable<ChatMessage>;
  readonly linkMessages$: Observable<LinkMessage>;
  readonly linkErrors$: Observable<LinkError>;
  getSelf(options?: { signal?: AbortSignal }): Promise<HostIdentity>;
  sign(payload: Uint8Array, options?: { signal?: AbortSignal }): Promise<HostSignature>;
  sendLink(peer: string, service: string, payload: Uint8Array, options?: { signal?: AbortSignal }): Promise<number>;
  /** Stops deliveries until released (see HostClient.holdLinks); without it, what peers send is not bounded here. */
  holdLinks?(): () => void;
  joinRoom(room: { id: string; title: string; members: string[] }): Promise<ChatRoom>;
  sendChat(to: ChatTarget, text: string): Promise<ChatSent>;
  chatHistory(of: ChatTarget, limit?: number): Promise<ChatMessage[]>;
}

export interface FolderServiceOptions {
  readonly host: FolderHost;
  readonly dataDir: string;
  /** The Links service id of the sync protocol (the plugin manifest declares it). */
  readonly syncService: string;
  readonly verifier: SignatureVerifier;
  readonly clock?: () => number;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, detail?: unknown) => void;
  readonly fsTraits?: FsTraits;
  readonly scan?: { readonly rescanIntervalMs?: number; readonly quietMs?: number; readonly maxWaitMs?: number; readonly settleMs?: number };
  readonly signal?: AbortSignal;
  /** Bounds on what peers sent that waits to be handled (defaults in inbound-gate.ts). */
  readonly inbound?: { readonly highBytes?: number; readonly lowBytes?: number; readonly stallMs?: number };
  /** How long an online peer may stay silent before it is `no-answer` (PEER_ANSWER_MS in status.ts). */
  readonly peerAnswerMs?: number;
}

/** Answers about folders we do not hold go out at most this often per (peer, folder). */
const UNKNOWN_REPLY_EVERY_MS = 5_000;
/** After a drop notice, a peer's sessions resync once things settle. */
const RESYNC_DELAY_MS = 500;
const MAX_NAME = 200;
/** Open files are looked for every few seconds: /proc is walked whole each time. */
const OPEN_FILES_EVERY_TICKS = 5;
/** The live activity feed reads the newest entries at most this often per folder (see Coalescer). */
const ACTIVITY_EVERY_MS = 1_000;

export class KinfolderService implements FolderService {
  readonly events: Observable<ServiceEvent>;
  private readonly subject = new Subject<ServiceEvent>();
  private readonly held = new Map<string, SharedFolder>();
  private friendList = new BehaviorSubject<Peer[]>([]);
  private readonly subs: Subscription[] = [];
  private readonly unknownReplies = new Map<string, number>();
  private readonly resyncTimers = new Map<string, NodeJS.Timeout>();
  private readonly ticker: NodeJS.Timeout;
  private readonly clock: () => number;
  private hostReady = false;
  private stopped = false;
  /** Signs through the host: the private key never leaves it. */
  private readonly signer = { sign: async (m: Uint8Array): Promise<Uint8Array> => (await this.opts.host.sign(m)).signature };
  readonly views: FolderViews;
  /** Folder messages from peers taken in and not yet handled, bounded by holding the host's Links. */
  readonly inbound: InboundGate;

  private constructor(
    private readonly opts: FolderServiceOptions,
    private readonly me: HostIdentity,
    private readonly store: Store,
    private readonly registry: Registry,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.events = this.subject.asObservable();
    this.views = new FolderViews(store, (fp) => this.nameOf(fp));
    const host = opts.host;
    this.inbound = new InboundGate({
      hold: host.holdLinks ? () => host.holdLinks!() : () => () => undefined,
      highBytes: opts.inbound?.highBytes ?? INBOUND_HIGH_BYTES,
      lowBytes: opts.inbound?.lowBytes ?? INBOUND_LOW_BYTES,
      stallMs: opts.inbound?.stallMs ?? INBOUND_STALL_MS,
      onStall: (bytes) => opts.log('debug', `no sync message handled for a while with ${bytes} bytes waiting: taking deliveries again (an apply may wait for blocks behind them)`),
    });
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  /** Waits for the host (for our identity), opens the store and every folder held here, and starts syncing. */
  static async start(opts: FolderServiceOptions): Promise<KinfolderService> {
    await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const me = await waitForSelf(opts.host, opts.signal);
    const store = await Store.open(path.join(opts.dataDir, 'store.sqlite'), { signal: opts.signal });
    let registry: Registry;
    try {
      registry = await Registry.open(opts.dataDir);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
    const s = new KinfolderService(opts, me, store, registry);
    for (const rec of registry.folderList()) {
      try {
        await s.openFolder(rec.id);
      } catch (e) {
        opts.log('error', `folder ${rec.id} at ${rec.root} could not be opened`, e);
        s.problem('FOLDER_UNAVAILABLE', `folder at ${rec.root} could not be opened: ${(e as Error).message}`, rec.id);
      }
    }
    s.wire();
    return s;
  }

  get fingerprint(): string {
    return this.me.fingerprint;
  }

  private wire(): void {
    const { host } = this.opts;
    this.subs.push(
      host.state$.subscribe((st) => {
        this.hostReady = st === 'ready';
        // Links messages sent while the host was away are lost: sessions start again.
        if (st !== 'ready') for (const f of this.held.values()) for (const p of [...f.sessions.keys()]) void f.closeSession(p);
      }),
      host.peers$.subscribe((peers) => {
        this.friendList.next(peers);
        // A peer that comes online is 'checking' until it speaks; one that goes is 'offline'.
        for (const f of this.held.values()) {
          this.reconcileSessions(f);
          this.pushStatus(f);
        }
        this.emit({ type: 'friends' });
      }),
      host.linkMessages$.pipe(filter((m) => m.service === this.opts.syncService)).subscribe((m) => this.onLink(m)),
      host.linkErrors$.subscribe((e) => this.onLinkError(e)),
      host.chat$.subscribe((m) => this.onChat(m)),
    );
    for (const f of this.held.values()) void this.joinChatRoom(f);
  }

  private emit(e: ServiceEvent): void {
    if (!this.subject.closed) this.subject.next(e);
  }

  private problem(code: string, message: string, folder?: string): void {
    this.emit({ type: 'problem', code, message, ...(folder ? { folder } : {}) });
  }

  // ------------------------------------------------------------------ folders at runtime

  private async openFolder(id: string, replica?: FolderReplica): Promise<SharedFolder> {
    const rec = this.registry.folder(id);
    if (!rec) throw new ServiceError('NOT_FOUND', `no folder ${id} here`);
    const f = await SharedFolder.open(
      {
        record: rec,
        store: this.store,
        self: this.me.fingerprint,
        signer: this.signer,
        verifier: this.opts.verifier,
        clock: this.clock,
        log: (m, d) => this.opts.log('debug', `${id.slice(0, 8)}: ${m}`, d),
        fsTraits: this.opts.fsTraits,
        scan: this.opts.scan,
        send: (peer, m) => this.send(peer, id, m),
        peerAnswerMs: this.opts.peerAnswerMs,
      },
      replica,
    );
    this.held.set(id, f);
    const activity = new Coalescer(ACTIVITY_EVERY_MS, (n) => {
      if (this.held.get(id) !== f) return;
      void this.views.activitySince(f, n).then((items) => items.length && this.emit({ type: 'activity', folder: id, items }), () => undefined);
    });
    f.events.subscribe((e) => {
      if (e.type === 'engine') {
        const ev = e.event;
        if (ev.type === 'folder:changed') this.emit({ type: 'files', folder: id, paths: ev.paths.slice(0, 1000) });
        else if (ev.type === 'folder:applied') this.emit({ type: 'files', folder: id, paths: ev.paths.slice(0, 1000) });
        else if (ev.type === 'folder:conflict') this.emit({ type: 'conflicts', folder: id });
        else if (ev.type === 'folder:refused' && ev.code !== 'APPLY_BLOCK_UNAVAILABLE') this.problem(ev.code ?? 'REFUSED', `${ev.path ? `${ev.path}: ` : ''}${ev.message}`, id);
        else if (ev.type === 'folder:problem') {
          // The engine's own trouble (an apply that failed or hangs, the scanner's errors): shown and logged, not only counted.
          this.opts.log('warn', `folder ${id}: ${ev.code ?? 'PROBLEM'}: ${ev.path ? `${ev.path}: ` : ''}${ev.message}`);
          this.problem(ev.code ?? 'FOLDER_PROBLEM', `${ev.path ? `${ev.path}: ` : ''}${ev.message}`, id);
        }
        if (ev.type === 'folder:changed') activity.note(ev.entries);
      } else if (e.type === 'peer-silent') {
        this.pushStatus(f);
        this.emit({ type: 'members', folder: id });
      } else {
        const ev = e.event;
        if (ev.type === 'sync:ingested' && ev.result.manifestsApplied.length > 0) this.manifestMoved(f);
        const joinedNow = (ev.type === 'sync:caught-up' || ev.type === 'sync:ingested' || ev.type === 'sync:peer-vector') && this.registry.markJoined(id, e.peer);
        if (joinedNow) this.emit({ type: 'members', folder: id });
        // A peer's Vector ends its 'checking': the panel hears it now, not at its next poll.
        if (joinedNow || ev.type === 'sync:peer-vector') this.pushStatus(f);
        if (ev.type === 'sync:refusal' || ev.type === 'sync:presence') this.emit({ type: 'members', folder: id });
        if (ev.type === 'sync:presence') this.emit({ type: 'files', folder: id, paths: ev.paths });
        // What a peer sent wrong is refused, logged and shown; the session goes on.
        if (ev.type === 'sync:malformed') {
          this.opts.log('warn', `malformed message from ${e.peer} in ${id}`, ev.error.message);
          this.problem('PEER_MALFORMED', `${this.nameOf(e.peer, f)} sent a malformed message: ${ev.error.message}`, id);
        }
        if (ev.type === 'sync:refused-input') {
          const first = ev.refusals[0];
          this.opts.log('warn', `refused ${ev.refusals.length + ev.manifestRefusals} item(s) from ${e.peer} in ${id}`, first);
          this.problem('PEER_REFUSED', `refused ${ev.refusals.length + ev.manifestRefusals} item(s) from ${this.nameOf(e.peer, f)}${first ? `: ${first.reason}: ${first.detail}` : ''}`, id);
        }
      }
    });
    return f;
  }

  /** The manifest moved on (edited here or received): sessions, engine and chat room follow. */
  private manifestMoved(f: SharedFolder): void {
    this.reconcileSessions(f);
    for (const s of f.sessions.values()) s.nudge();
    void f.engine.manifestChanged().catch((e: unknown) => this.opts.log('warn', 'manifest change in the engine', e));
    void this.joinChatRoom(f);
    this.emit({ type: 'members', folder: f.id });
    this.emit({ type: 'folders' });
  }

  /** A session with every online friend who is an active member; none with offline peers. */
  private reconcileSessions(f: SharedFolder): void {
    const index = f.replica.manifest().index;
    const online = new Set(this.friendList.value.filter((p) => p.online).map((p) => p.fingerprint));
    if (!this.hostReady) online.clear();
    for (const fp of online) if (fp !== this.me.fingerprint && index.isActiveMember(fp)) f.session(fp);
    for (const fp of [...f.sessions.keys()]) if (!online.has(fp)) void f.closeSession(fp);
  }

  private async send(peer: string, folder: string, m: SyncMessage): Promise<void> {
    await this.opts.host.sendLink(peer, this.opts.syncService, encodeEnvelope(folder, m), { signal: this.opts.signal });
  }

  private onLink(m: LinkMessage): void {
    let env: { folder: string; message: Uint8Array };
    try {
      env = openEnvelope(m.payload);
    } catch (e) {
      this.opts.log('warn', `malformed sync payload from ${m.peer}`, (e as Error).message);
      return;
    }
    const f = this.held.get(env.folder);
    if (f) {
      // Block messages are taken in at once (and bounded by the block lane's own windows);
      // the others queue behind the session's ordered path: those are what the gate counts.
      const handled = isBlockBytes(env.message) ? undefined : this.inbound.take(m.payload.length);
      f.session(m.peer)
        .receive(env.message)
        .catch((e: unknown) => this.opts.log('debug', `from ${m.peer} about ${env.folder}`, (e as Error)?.message ?? e))
        .finally(handled);
      return;
    }
    void this.onUnknownFolder(m.peer, env.folder, env.message).catch((e: unknown) => this.opts.log('warn', `message from ${m.peer} about folder ${env.folder}`, e));
  }

  /** A friend wrote about a folder we do not hold: maybe an invitation; otherwise one refusal now and then. */
  private async onUnknownFolder(peer: string, folder: string, bytes: Uint8Array): Promise<void> {
    let m: SyncMessage;
    try {
      m = decodeMessage(bytes);
    } catch {
      return;
    }
    if (m.kind === 'refusal') return;
    const inv = this.registry.invitation(folder);
    if (m.kind === 'manifest' && m.chain.length > 0 && !inv?.declined) {
      const checked = await checkInvitation(folder, this.me.fingerprint, m.chain, this.opts.verifier);
      if ('refused' in checked) {
        this.opts.log('info', `manifest of ${folder} from ${peer} is not an invitation: ${checked.refused}`);
      } else if (!this.held.has(folder)) {
        const isNew = !inv;
        await this.registry.putInvitation({
          folder,
          chain: checked.chain.map((b) => Buffer.from(b).toString('base64')),
          fromPeer: peer,
          name: checked.head.name,
          members: checked.head.members.map((x) => ({ fingerprint: x.fingerprint, role: x.role, ...(x.pathPrefixes?.length ? { pathPrefixes: x.pathPrefixes } : {}) })),
          receivedAtMs: inv?.receivedAtMs ?? this.clock(),
          declined: false,
        });
        this.emit({ type: 'invitations' });
        if (isNew) this.opts.log('info', `invitation to folder "${checked.head.name}" from ${peer} as ${checked.me.role}`);
      }
    }
    const key = `${peer}/${folder}`;
    const last = this.unknownReplies.get(key) ?? -Infinity;
    const now = this.clock();
    if (now - last < UNKNOWN_REPLY_EVERY_MS && !(m.kind === 'manifest' && m.chain.length > 0)) return;
    this.unknownReplies.set(key, now);
    const now2 = this.registry.invitation(folder);
    const code = now2?.declined ? 'DECLINED' : now2 ? 'INVITATION_PENDING' : 'UNKNOWN_FOLDER';
    await this.send(peer, folder, { kind: 'refusal', folder, code, message: code === 'UNKNOWN_FOLDER' ? 'this node does not hold the folder' : code === 'DECLINED' ? 'the invitation was declined' : 'the invitation waits for an answer' });
  }

  private onLinkError(e: LinkError): void {
    if (!e.peer) return;
    this.opts.log('debug', `link error with ${e.peer}: ${e.code} ${e.message}`);
    // Something sent to or from the peer may be lost: both sides say their vectors again.
    if (this.resyncTimers.has(e.peer)) return;
    const t = setTimeout(() => {
      this.resyncTimers.delete(e.peer);
      for (const f of this.held.values()) void f.sessions.get(e.peer)?.resync().catch(() => undefined);
    }, RESYNC_DELAY_MS);
    t.unref();
    this.resyncTimers.set(e.peer, t);
  }

  private scanningOpen = false;

  /** Which files processes here hold open, told to peers when it changes. */
  private async refreshOpenFiles(): Promise<void> {
    if (this.scanningOpen || this.held.size === 0) return;
    this.scanningOpen = true;
    try {
      const byRoot = await openPathsUnder([...this.held.values()].map((f) => f.record.root));
      for (const f of this.held.values()) {
        const now = byRoot.get(f.record.root) ?? new Set<string>();
        const changed = now.size !== f.openByProcesses.size || [...now].some((p) => !f.openByProcesses.has(p));
        f.openByProcesses = now;
        if (changed) {
          await f.sendPresence();
          this.emit({ type: 'files', folder: f.id, paths: [...now] });
        }
      }
    } finally {
      this.scanningOpen = false;
    }
  }

  private ticks = 0;

  private tick(): void {
    if (++this.ticks % OPEN_FILES_EVERY_TICKS === 0) void this.refreshOpenFiles().catch((e: unknown) => this.opts.log('debug', 'reading open files', e));
    for (const f of this.held.values()) {
      f.sampleRate();
      f.settleToApply();
      void f.clearIncomingWhenIdle();
      void f.saveVectors();
      // Every second, pushed when it changed: many changes have no event of their own (a
      // file's blocks arriving, an apply queue running dry), and a panel that missed one said
      // "behind" for good.
      this.pushStatus(f);
    }
  }

  // ------------------------------------------------------------------ chat

  private async joinChatRoom(f: SharedFolder): Promise<void> {
    const members = f.replica.manifest().manifest.members.filter((m) => f.replica.manifest().index.isActiveMember(m.fingerprint)).map((m) => m.fingerprint);
    try {
      await this.opts.host.joinRoom({ id: f.chatRoom, title: `📁 ${f.name}`, members });
    } catch (e) {
      this.opts.log('warn', `joining the chat room of ${f.id}`, (e as Error).message);
    }
  }

  private onChat(m: ChatMessage): void {
    if (!m.room.startsWith('kinfolder-')) return;
    const f = this.held.get(m.room.slice('kinfolder-'.length));
    if (f) this.emit({ type: 'chat', folder: f.id, line: chatLine(m) });
  }

  async chatHistory(folder: string, limit: number): Promise<ChatLine[]> {
    const f = this.get(folder);
    return (await this.hostCall(() => this.opts.host.chatHistory({ room: f.chatRoom }, clampInt(limit, 1, 500)))).map(chatLine);
  }

  async sendChat(folder: string, text: string): Promise<ChatLine> {
    const f = this.get(folder);
    const t = String(text ?? '').trim();
    if (t.length === 0 || t.length > 4000) throw new ServiceError('BAD_INPUT', 'a chat message has 1 to 4,000 characters');
    const sent = await this.hostCall(() => this.opts.host.sendChat({ room: f.chatRoom }, t));
    return chatLine(sent.message);
  }

  // ------------------------------------------------------------------ the panel's surface

  async self(): Promise<{ fingerprint: string; name: string }> {
    return { fingerprint: this.me.fingerprint, name: this.me.displayName };
  }

  friends(): Friend[] {
    return this.friendList.value.map((p) => ({ fingerprint: p.fingerprint, name: p.name, online: p.online }));
  }

  private nameOf(fp: string, f?: SharedFolder): string {
    if (fp === this.me.fingerprint) return this.me.displayName;
    const friend = this.friendList.value.find((p) => p.fingerprint === fp);
    if (friend) return friend.name;
    const m = f?.replica.manifest().index.member(fp) ?? [...this.held.values()].map((x) => x.replica.manifest().index.member(fp)).find(Boolean);
    return m?.name ?? fp.slice(0, 8);
  }

  private get(id: string): SharedFolder {
    const f = this.held.get(String(id));
    if (!f) throw new ServiceError('NOT_FOUND', `no folder ${id} here`);
    return f;
  }

  /** Runs `f`; a failure of the host link becomes HOST_UNAVAILABLE, anything else goes on as it is. */
  private async hostCall<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof HostClientError) throw new ServiceError('HOST_UNAVAILABLE', `the host did not answer: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** Each folder's status as last pushed (JSON), so that only a change is pushed. */
  private readonly statusSaid = new Map<string, string>();

  private pushStatus(f: SharedFolder): void {
    void this.status(f).then((status) => {
      const said = JSON.stringify(status);
      if (this.statusSaid.get(f.id) === said) return;
      this.statusSaid.set(f.id, said);
      this.emit({ type: 'status', folder: f.id, status });
    }, () => undefined);
  }

  async status(f: SharedFolder): Promise<FolderStatus> {
    const index = f.replica.manifest().index;
    const friends = new Map(this.friendList.value.map((p) => [p.fingerprint, p]));
    const peers: PeerFacts[] = [];
    const maxSeq = (author: string): number => index.revocation(author)?.lastValidSeq ?? Infinity;
    for (const m of f.replica.manifest().manifest.members) {
      if (m.fingerprint === this.me.fingerprint || !index.isActiveMember(m.fingerprint)) continue;
      const view = f.sessions.get(m.fingerprint)?.view();
      peers.push({
        fingerprint: m.fingerprint,
        name: this.nameOf(m.fingerprint, f),
        online: this.hostReady && (friends.get(m.fingerprint)?.online ?? false),
        // The registry, not f.record: the record is the folder's entry as it was when opened.
        joined: this.registry.folder(f.id)?.joined.includes(m.fingerprint) === true,
        advertised: validPart(view?.advertised, maxSeq),
        lastKnown: validPart(f.lastVector(m.fingerprint), maxSeq),
        refusal: view?.refusal,
        openPaths: view?.openPaths ?? [],
        silentMs: f.silentMs(m.fingerprint),
      });
    }
    // Counted by the engine as it applies: reading every path's heads here cost the folder's
    // size per status (polled by the panel and pushed every second while files arrive).
    const conflicts = f.engine.conflictCount();
    return folderStatus({
      ours: await f.replica.versionVector(),
      peers,
      pendingFiles: pendingCount(f),
      pendingBytes: f.pendingBytes,
      requestsInFlight: f.blocks.requestsInFlight,
      rateHistory: [...f.rateHistory],
      conflicts,
    }, this.opts.peerAnswerMs);
  }

  private async summary(f: SharedFolder): Promise<FolderSummary> {
    const me = f.replica.manifest().index.member(this.me.fingerprint);
    return {
      id: f.id,
      name: f.name,
      root: f.record.root,
      role: me?.role ?? 'reader',
      ...(me?.pathPrefixes?.length ? { pathPrefixes: me.pathPrefixes } : {}),
      chatRoom: f.chatRoom,
      status: await this.status(f),
    };
  }

  async folders(): Promise<FolderSummary[]> {
    return Promise.all([...this.held.values()].map((f) => this.summary(f)));
  }

  folder(id: string): Promise<FolderSummary> {
    return this.summary(this.get(id));
  }

  /** A folder's root must not hold another folder's root, nor lie inside one. */
  private async checkRoot(root: unknown, mustBeEmpty: boolean): Promise<string> {
    if (typeof root !== 'string' || root.trim() === '') throw new ServiceError('BAD_INPUT', 'give the folder a local path');
    if (!path.isAbsolute(root)) throw new ServiceError('BAD_INPUT', `the local path must be absolute: ${root}`);
    const abs = path.resolve(root);
    for (const f of this.held.values()) {
      const other = f.record.root;
      if (abs === other || abs.startsWith(other + path.sep) || other.startsWith(abs + path.sep)) throw new ServiceError('ALREADY_EXISTS', `${abs} overlaps the folder "${f.name}" at ${other}`);
    }
    try {
      const st = await fsp.stat(abs);
      if (!st.isDirectory()) throw new ServiceError('BAD_INPUT', `${abs} is not a directory`);
      if (mustBeEmpty && (await fsp.readdir(abs)).length > 0) throw new ServiceError('BAD_INPUT', `${abs} is not empty: choose an empty or new directory`);
    } catch (e) {
      if (isServiceError(e)) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ServiceError('BAD_INPUT', `${abs}: ${(e as Error).message}`);
      await fsp.mkdir(abs, { recursive: true });
    }
    return abs;
  }

  async createFolder(input: { name: string; root: string }): Promise<FolderSummary> {
    this.checkOpen();
    const name = String(input?.name ?? '').trim();
    if (name.length === 0 || name.length > MAX_NAME) throw new ServiceError('BAD_INPUT', `a folder name has 1 to ${MAX_NAME} characters`);
    const root = await this.checkRoot(input?.root, false);
    const id = randomBytes(16).toString('hex');
    const me: Member = { fingerprint: this.me.fingerprint, name: this.me.displayName, publicKeyArmored: this.me.publicKeyArmored, role: 'admin' };
    const replica = await this.hostCall(() =>
      FolderReplica.create({ store: this.store, folder: id, self: this.me.fingerprint, signer: this.signer, verifier: this.opts.verifier, clock: this.clock, name, members: [me] }),
    );
    await this.registry.putFolder({ id, root, addedAtMs: this.clock(), joined: [] });
    const f = await this.openFolder(id, replica);
    void this.joinChatRoom(f);
    this.emit({ type: 'folders' });
    return this.summary(f);
  }

  async leaveFolder(id: string): Promise<void> {
    const f = this.get(id);
    const { index, manifest } = f.replica.manifest();
    const admins = manifest.members.filter((m) => index.isActiveAdmin(m.fingerprint));
    const others = manifest.members.filter((m) => m.fingerprint !== this.me.fingerprint && index.isActiveMember(m.fingerprint));
    if (others.length > 0 && admins.length === 1 && admins[0].fingerprint === this.me.fingerprint) {
      throw new ServiceError('LAST_ADMIN', 'you are the folder’s only admin: make another member admin first, or remove the others');
    }
    this.held.delete(id);
    this.statusSaid.delete(id);
    await f.closeForGood();
    await this.registry.removeFolder(id);
    // Peers that still list us offer the folder again; accepting it then starts from nothing,
    // as a new member would (the old rows would make the join fail: "here already"). A crash
    // before this line leaves rows that acceptInvitation forgets.
    await this.store.forgetFolder(id);
    // The next message about it gets its refusal at once (the answers to the first invitation
    // were counted against the same peers), so they know to offer it again.
    for (const key of this.unknownReplies.keys()) if (key.endsWith(`/${id}`)) this.unknownReplies.delete(key);
    this.emit({ type: 'folders' });
  }

  invitations(): Invitation[] {
    const out: Invitation[] = [];
    for (const r of this.registry.invitationList()) {
      if (r.declined) continue;
      const me = r.members.find((m) => m.fingerprint === this.me.fingerprint);
      if (!me) continue;
      out.push({
        folder: r.folder,
        name: r.name,
        from: { fingerprint: r.fromPeer, name: this.nameOf(r.fromPeer) },
        role: me.role,
        ...(me.pathPrefixes?.length ? { pathPrefixes: me.pathPrefixes } : {}),
        members: r.members.length,
        receivedAtMs: r.receivedAtMs,
      });
    }
    return out;
  }

  async acceptInvitation(folder: string, root: string): Promise<FolderSummary> {
    this.checkOpen();
    const inv = this.registry.invitation(String(folder));
    if (!inv || inv.declined) throw new ServiceError('NOT_FOUND', `no pending invitation to folder ${folder}`);
    if (this.registry.folder(inv.folder)) throw new ServiceError('ALREADY_EXISTS', `folder ${folder} is here already`);
    const abs = await this.checkRoot(root, true);
    // Rows of an earlier membership that a leave did not get to remove.
    await this.store.forgetFolder(inv.folder);
    let replica: FolderReplica;
    try {
      replica = await FolderReplica.join({
        store: this.store,
        folder: inv.folder,
        self: this.me.fingerprint,
        signer: this.signer,
        verifier: this.opts.verifier,
        clock: this.clock,
        manifests: inv.chain.map((b) => Buffer.from(b, 'base64')),
      });
    } catch (e) {
      if (isReplicaError(e, 'ALREADY_CREATED')) throw new ServiceError('ALREADY_EXISTS', `folder ${folder} is here already`);
      throw new ServiceError('BAD_INPUT', `the invitation does not verify: ${(e as Error).message}`, { cause: e });
    }
    await this.registry.putFolder({ id: inv.folder, root: abs, addedAtMs: this.clock(), joined: [inv.fromPeer] });
    await this.registry.removeInvitation(inv.folder);
    const f = await this.openFolder(inv.folder, replica);
    this.reconcileSessions(f);
    void this.joinChatRoom(f);
    this.emit({ type: 'invitations' });
    this.emit({ type: 'folders' });
    return this.summary(f);
  }

  async declineInvitation(folder: string): Promise<void> {
    const inv = this.registry.invitation(String(folder));
    if (!inv || inv.declined) throw new ServiceError('NOT_FOUND', `no pending invitation to folder ${folder}`);
    await this.registry.putInvitation({ ...inv, declined: true, chain: [], members: [] });
    this.emit({ type: 'invitations' });
    this.unknownReplies.delete(`${inv.fromPeer}/${inv.folder}`);
    await this.send(inv.fromPeer, inv.folder, { kind: 'refusal', folder: inv.folder, code: 'DECLINED', message: 'the invitation was declined' }).catch(() => undefined);
  }

  async members(folder: string): Promise<MemberView[]> {
    const f = this.get(folder);
    const { manifest, index } = f.replica.manifest();
    const friends = new Map(this.friendList.value.map((p) => [p.fingerprint, p]));
    const joined = new Set(this.registry.folder(f.id)?.joined ?? []);
    const vector = await f.replica.versionVector();
    return manifest.members.map((m): MemberView => {
      const self = m.fingerprint === this.me.fingerprint;
      const view = f.sessions.get(m.fingerprint)?.view();
      let state: MemberView['state'];
      if (!index.isActiveMember(m.fingerprint)) state = 'revoked';
      else if (self || joined.has(m.fingerprint) || vector.has(m.fingerprint) || view?.advertised) state = 'active';
      else if (view?.refusal === 'DECLINED') state = 'declined';
      else state = 'invited';
      return {
        fingerprint: m.fingerprint,
        name: self ? this.me.displayName : (friends.get(m.fingerprint)?.name ?? m.name),
        role: m.role,
        ...(m.pathPrefixes?.length ? { pathPrefixes: m.pathPrefixes } : {}),
        self,
        online: self ? true : this.hostReady && (friends.get(m.fingerprint)?.online ?? false),
        state,
      };
    });
  }

  manifestHistory(folder: string) {
    const f = this.get(folder);
    return this.views.manifestHistory(f);
  }

  async editMember(folder: string, edit: MemberEdit): Promise<MemberView[]> {
    this.checkOpen();
    const f = this.get(folder);
    const { manifest, index } = f.replica.manifest();
    if (!index.isActiveAdmin(this.me.fingerprint)) throw new ServiceError('NOT_ADMIN', 'only the folder’s admins change who is who');
    const fp = String(edit?.fingerprint ?? '');
    const role = (r: unknown): Role => {
      if (r !== 'reader' && r !== 'writer' && r !== 'admin') throw new ServiceError('BAD_INPUT', `role must be reader, writer or admin, not ${JSON.stringify(r)}`);
      return r;
    };
    const prefixes = (p: unknown): string[] => {
      if (p === undefined) return [];
      if (!Array.isArray(p) || p.some((x) => typeof x !== 'string')) throw new ServiceError('BAD_INPUT', 'path prefixes are a list of paths');
      return [...new Set(p.map((x: string) => x.trim().replace(/^\/+|\/+$/g, '')).filter((x) => x.length > 0))].sort();
    };
    const admins = manifest.members.filter((m) => index.isActiveAdmin(m.fingerprint));
    const lastAdmin = admins.length === 1 && admins[0].fingerprint === fp;
    let change: ManifestEdit;
    switch (edit?.kind) {
      case 'invite': {
        const friend = this.friendList.value.find((p) => p.fingerprint === fp);
        if (!friend) throw new ServiceError('NOT_FOUND', `${fp} is not a friend of this node`);
        const existing = index.member(fp);
        if (existing && index.isActiveMember(fp)) throw new ServiceError('ALREADY_EXISTS', `${friend.name} is a member already`);
        if (existing) throw new ServiceError('BAD_INPUT', `${friend.name} was removed from this folder; a removed member cannot be invited again`);
        const r = role(edit.role);
        const p = prefixes(edit.pathPrefixes);
        if (p.length > 0 && r !== 'writer') throw new ServiceError('BAD_INPUT', 'only writers are narrowed to paths');
        change = { kind: 'add', member: { fingerprint: fp, name: friend.name, publicKeyArmored: friend.publicKeyArmored, role: r, ...(p.length ? { pathPrefixes: p } : {}) } };
        break;
      }
      case 'role': {
        if (!index.isActiveMember(fp)) throw new ServiceError('NOT_FOUND', `${fp} is not a member`);
        const r = role(edit.role);
        if (lastAdmin && r !== 'admin') throw new ServiceError('LAST_ADMIN', 'the folder needs an admin: make another member admin first');
        // The member's feed as far as we hold it: what they wrote up to there stays judged by
        // the grant it was written under, if this change takes rights away.
        change = { kind: 'role', fingerprint: fp, role: r, untilSeq: (await f.replica.versionVector()).get(fp)?.seq ?? 0 };
        break;
      }
      case 'narrow':
        if (!index.isActiveMember(fp)) throw new ServiceError('NOT_FOUND', `${fp} is not a member`);
        if (index.member(fp)?.role !== 'writer') throw new ServiceError('BAD_INPUT', 'only writers are narrowed to paths');
        change = { kind: 'narrow', fingerprint: fp, pathPrefixes: prefixes(edit.pathPrefixes), untilSeq: (await f.replica.versionVector()).get(fp)?.seq ?? 0 };
        break;
      case 'remove': {
        if (!index.isActiveMember(fp)) throw new ServiceError('NOT_FOUND', `${fp} is not a member`);
        if (lastAdmin) throw new ServiceError('LAST_ADMIN', 'the folder needs an admin: make another member admin first');
        // A revocation, not a deletion: what they wrote so far stays valid, nothing later is.
        const seq = (await f.replica.versionVector()).get(fp)?.seq ?? 0;
        change = { kind: 'revoke', fingerprint: fp, lastValidSeq: seq };
        break;
      }
      default:
        throw new ServiceError('BAD_INPUT', `unknown member edit ${JSON.stringify((edit as { kind?: unknown })?.kind)}`);
    }
    let cuts: FeedCutReport[];
    try {
      ({ cuts } = await this.hostCall(() => f.replica.editManifest(change, this.opts.signal)));
    } catch (e) {
      if (isReplicaError(e)) throw new ServiceError('BAD_INPUT', e.message, { cause: e });
      throw e;
    }
    this.manifestMoved(f);
    if (cuts.length > 0) void f.engine.applyCuts(cuts).catch((e: unknown) => this.opts.log('warn', 'entries the manifest change removed', e));
    return this.members(folder);
  }

  files(folder: string, dir: string) {
    const f = this.get(folder);
    return this.views.files(f, String(dir ?? ''), this.openBy(f));
  }

  /** Who has which path open: peers' presence, and us. */
  private openBy(f: SharedFolder): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (p: string, who: string): void => {
      const l = out.get(p) ?? [];
      l.push(who);
      out.set(p, l);
    };
    for (const [peer, s] of f.sessions) for (const p of s.view().openPaths) add(p, this.nameOf(peer, f));
    for (const p of f.openPaths()) add(p, this.me.displayName);
    return out;
  }

  activity(folder: string, limit: number) {
    return this.views.activity(this.get(folder), clampInt(limit, 1, 1000));
  }

  async versions(folder: string, p: string) {
    const f = this.get(folder);
    return this.views.versions(f, checkRel(p));
  }

  async restore(folder: string, p: string, version: string): Promise<void> {
    const f = this.get(folder);
    this.mayWrite(f, checkRel(p));
    try {
      await f.engine.restore(checkRel(p), String(version));
    } catch (e) {
      throw asServiceError(e);
    }
    this.emit({ type: 'files', folder, paths: [p] });
  }

  async deleted(folder: string) {
    const f = this.get(folder);
    return (await f.engine.deleted()).map((d) => ({ path: d.path, version: d.version, deletedAtMs: d.keptAtMs, size: d.size }));
  }

  readFile(folder: string, p: string, version?: string, maxBytes?: number): Promise<Buffer> {
    const f = this.get(folder);
    return this.views.readFile(f, checkRel(p), version, clampInt(maxBytes ?? 1024 * 1024, 1, 16 * 1024 * 1024));
  }

  conflicts(folder: string) {
    return this.views.conflicts(this.get(folder));
  }

  async resolveConflict(folder: string, p: string, choice: { keep: string } | { keepBoth: true }): Promise<void> {
    const f = this.get(folder);
    const rel = checkRel(p);
    this.mayWrite(f, rel);
    const current = (await f.engine.conflicts()).find((c) => c.path === rel);
    if (!current) throw new ServiceError('CONFLICT_GONE', `${rel} is not in conflict any more`);
    let keep: 'both' | string;
    if ('keepBoth' in (choice ?? {})) keep = 'both';
    else {
      const h = String((choice as { keep?: unknown })?.keep ?? '');
      if (![current.winner, ...current.losers].some((v) => v.hash === h)) throw new ServiceError('CONFLICT_GONE', `version ${h} is not one of ${rel}'s conflicting versions now`);
      keep = h;
    }
    try {
      await f.engine.resolve(rel, { keep });
    } catch (e) {
      throw asServiceError(e);
    }
    this.emit({ type: 'conflicts', folder });
  }

  async setOpen(folder: string, p: string, open: boolean): Promise<void> {
    const f = this.get(folder);
    const rel = checkRel(p);
    if (open) f.openHere.add(rel);
    else f.openHere.delete(rel);
    await f.sendPresence();
  }

  private mayWrite(f: SharedFolder, p: string): void {
    const index = f.replica.manifest().index;
    const tip = f.replica.tip()?.seq ?? 0;
    const d = index.mayWrite(this.me.fingerprint, p, tip + 1);
    if (!d.ok) throw new ServiceError('NOT_A_WRITER', `you may not change ${p}: ${d.detail}`);
  }

  private checkOpen(): void {
    if (this.stopped) throw new ServiceError('CLOSED', 'the folder service is stopping');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.inbound.close();
    clearInterval(this.ticker);
    for (const t of this.resyncTimers.values()) clearTimeout(t);
    for (const s of this.subs) s.unsubscribe();
    for (const f of this.held.values()) await f.close();
    this.held.clear();
    await this.store.close().catch(() => undefined);
    this.subject.complete();
  }

  /** For tests and the demo: the running folder. */
  running(id: string): SharedFolder | undefined {
    return this.held.get(id);
  }
}

/**
 * Paths waiting for blocks or for apply, each once: counted, not collected (a catch-up puts
 * 100k paths in `toApply`, and a status is asked for every second and by every poll).
 */
function pendingCount(f: SharedFolder): number {
  let n = f.toApply.size;
  for (const p of f.pending.keys()) if (!f.toApply.has(p)) n++;
  return n;
}

function chatLine(m: ChatMessage): ChatLine {
  return { id: m.id, from: m.from, fromName: m.fromName, text: m.text, atMs: m.sentAtMs, outgoing: m.outgoing };
}

function clampInt(n: unknown, min: number, max: number): number {
  const v = Math.floor(Number(n));
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : min;
}

/** A path inside the folder as the panel gives it: relative, clean. */
function checkRel(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) throw new ServiceError('BAD_INPUT', 'give a path inside the folder');
  const parts = p.split('/');
  if (p.startsWith('/') || parts.some((s) => s === '' || s === '.' || s === '..')) throw new ServiceError('BAD_INPUT', `${JSON.stringify(p)} is not a clean path inside the folder`);
  return p;
}

function asServiceError(e: unknown): ServiceError {
  if (isServiceError(e)) return e;
  const code = (e as { code?: string })?.code ?? '';
  if (/NOT_FOUND|NO_VERSION|UNKNOWN/.test(code)) return new ServiceError('NOT_FOUND', (e as Error).message, { cause: e });
  if (/WRITE_REFUSED|NOT_A_WRITER/.test(code)) return new ServiceError('NOT_A_WRITER', (e as Error).message, { cause: e });
  return new ServiceError('INTERNAL', (e as Error)?.message ?? String(e), { cause: e });
}

async function waitForSelf(host: FolderHost, signal?: AbortSignal): Promise<HostIdentity> {
  for (;;) {
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const sub = host.state$.subscribe((s) => {
        if (s !== 'ready') return;
        queueMicrotask(() => sub.unsubscribe());
        resolve();
      });
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      return await host.getSelf({ signal });
    } catch (e) {
      if (signal?.aborted) throw e;
    }
  }
}
