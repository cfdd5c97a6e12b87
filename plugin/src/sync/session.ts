/**
 * One folder's sync with one peer, driven by messages: `receive(bytes)` for what arrives,
 * the `send` callback (awaited: the link's backpressure) for what leaves.
 *
 * Three independent paths, so none can wait on another in a cycle:
 * - the ordered path handles the peer's folder messages one at a time (ingest never sends much);
 * - the push path sends what the peer lacks (after its Vector, after a local change, after an
 *   apply of what another peer sent), then CaughtUp;
 * - the block path answers and matches block messages at once, so an apply that waits for a
 *   block never waits behind the ingest that started it.
 *
 * Permissions: the folder's manifest, entries and blocks go only to a current member; a
 * non-member gets one Refusal and nothing else, and whatever it sends is dropped.
 */
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { FolderEngine, FolderEvent } from '../folder';
import { decodeHashedEntry, mergeVectors, type FeedHead, type Fingerprint, type VersionVector } from '../log';
import type { FolderReplica, IngestRefusal, IngestResult } from '../replica';
import { BlockRequester, type PeerBlockSource } from './blocks';
import { isSyncError, SyncError } from './errors';
import type { FeedHolder, FeedSources } from './feed-sources';
import {
  blockRepliesBytes,
  decodeMessage,
  isBlockBytes,
  MAX_BATCH_BLOCKS,
  MAX_MESSAGE_BYTES,
  MIN_PROTOCOL_VERSION,
  peekEntryBatch,
  PROTOCOL_VERSION,
  vectorEntries,
  vectorOf,
  type BlockReplyItem,
  type BlockRequestItem,
  type SyncMessage,
} from './messages';

export interface SessionOptions {
  readonly engine: FolderEngine;
  readonly replica: FolderReplica;
  /** The peer's fingerprint, as the host's link authenticated it. */
  readonly peer: Fingerprint;
  readonly send: (m: SyncMessage) => Promise<void>;
  /** The engine's network block source: this session's requester joins it while the session runs. */
  readonly blocks?: PeerBlockSource;
  /** Entries per batch of the replica (about; a batch ends at a checkpoint). */
  readonly batchEntries?: number;
  /**
   * Encoded entries per EntryBatch message, in bytes: a longer batch goes as several messages,
   * the checkpoints with the last; the receiver holds the first ones until then.
   */
  readonly maxMessageEntryBytes?: number;
  readonly maxInFlight?: number;
  /** The folder's feed sources, shared by its sessions: a backlog comes from one peer at a time (see FeedSources). */
  readonly sources?: FeedSources;
  readonly signal?: AbortSignal;
  readonly log?: (message: string, detail?: unknown) => void;
}

export type SessionEvent =
  /** The peer sent everything it had up to `vector`, and all of it went through our ingest. */
  | { readonly type: 'sync:caught-up'; readonly vector: VersionVector }
  /** We sent the peer everything we had up to `vector`. */
  | { readonly type: 'sync:sent-caught-up'; readonly vector: VersionVector; readonly entries: number }
  | { readonly type: 'sync:ingested'; readonly result: IngestResult }
  /** Entries or manifests the peer sent that our validation refused (reported to the peer too). */
  | { readonly type: 'sync:refused-input'; readonly refusals: readonly IngestRefusal[]; readonly manifestRefusals: number }
  /** The peer refused us. */
  | { readonly type: 'sync:refusal'; readonly code: string; readonly message: string }
  /** We refused the peer: not a member. */
  | { readonly type: 'sync:refused-peer'; readonly code: string }
  /** The paths the peer has open now. */
  | { readonly type: 'sync:presence'; readonly paths: readonly string[] }
  /** The peer said what it has of the folder (it holds the folder: it joined). */
  | { readonly type: 'sync:peer-vector'; readonly vector: VersionVector }
  | { readonly type: 'sync:malformed'; readonly error: SyncError }
  | { readonly type: 'sync:problem'; readonly message: string; readonly error?: unknown };

/** Single BlockRequests (protocol 1) answered at once. */
const MAX_SERVING = 16;
/**
 * Blocks of one BlockRequests read ahead of the one being packed: at most this many, and about
 * SERVE_AHEAD_BYTES. Small blocks are read on a worker in batches of what is asked in one turn
 * (see BlockReads): 8 at a time made a worker message per 8 small files.
 */
const SERVE_READS = 256;
const SERVE_AHEAD_BYTES = 2 * 1024 * 1024;
/**
 * Replies to a BlockRequests go out in messages of about this many bytes: big enough that the
 * cost per message (two gRPC hops, a TLS frame) is small, small enough that each hop forwards
 * one while the next is read.
 */
export const REPLY_BATCH_BYTES = 1024 * 1024;
/** Bytes of blocks a peer may have asked in BlockRequests we have not answered yet; beyond, it is told we lack them. */
const MAX_SERVING_BYTES = 64 * 1024 * 1024;
const DEFAULT_ENTRY_BYTES = MAX_MESSAGE_BYTES - 512 * 1024;
/** Asking a peer again at one state of ours: after 1 s, doubling up to a minute. */
const ASK_AGAIN_MIN_MS = 1000;
const ASK_AGAIN_MAX_MS = 60_000;

/** `ours` lacks some seq that `theirs` has (of a feed not in `except`). */
function isBehind(ours: VersionVector, theirs: VersionVector, except?: ReadonlySet<Fingerprint>): boolean {
  for (const [author, head] of theirs) if ((ours.get(author)?.seq ?? 0) < head.seq && !except?.has(author)) return true;
  return false;
}
/** Entries held waiting for the message with their checkpoints: a peer can make us hold no more. */
const MAX_HELD_BYTES = 64 * 1024 * 1024;

export class SyncSession {
  readonly events: Observable<SessionEvent>;
  readonly folder: string;
  readonly peer: Fingerprint;
  private readonly subject = new Subject<SessionEvent>();
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private readonly requester: BlockRequester;
  private sub: Subscription | undefined;
  private ordered: Promise<unknown> = Promise.resolve();
  /** What we know the peer has: its Vector, what it sent us, what we sent it since. */
  private peerVector: Map<Fingerprint, FeedHead> | undefined;
  /** Counts the peer's Vectors: a push that began before the latest one does not raise `peerVector` (see `peerHas`). */
  private vectorGeneration = 0;
  /** Our vector when we last asked again after a CaughtUp found us behind (see `checkBehind`). */
  private askedAgainAt: string | undefined;
  /** Asks made at one state of ours, and the timer of the next (see `checkBehind`). */
  private asksAtState = 0;
  private askTimer: NodeJS.Timeout | undefined;
  private peerManifestHead: string | undefined;
  private chainSentFor: string | undefined;
  private owesCaughtUp = false;
  private pushWanted = false;
  private pushing: Promise<void> | null = null;
  private refusedPeer = false;
  private serving = 0;
  private readonly servingWaiters: (() => void)[] = [];
  /** BlockRequests answered one after another (the peer's order). */
  private servingBatches: Promise<void> = Promise.resolve();
  private servingBytes = 0;
  /** The protocol version the peer's Hello said (undefined until it arrives: version 1 is assumed). */
  private peerVersion: number | undefined;
  private closed = false;
  /** Entries of a long batch received before the message that carries its checkpoints. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private invited = false;
  /** What the peer last said it has (its Vector or CaughtUp), for status. */
  private advertised: Map<Fingerprint, FeedHead> | undefined;
  /** The peer's answer to our folder: it does not hold it, or it declined our invitation. */
  private peerRefusal: string | undefined;
  private openPaths: readonly string[] = [];
  /** Feeds we asked the peer to hold (another peer is their source); Resume or our next Vector ends them. */
  private readonly holdsAsked = new Set<Fingerprint>();
  /** Feeds the peer asked us to hold: our pushes skip them until its Resume or next Vector. */
  private readonly peerHolds = new Set<Fingerprint>();
  private readonly holder: FeedHolder;
  /** Our first Vector went out: a Hold sent before it would be ended by it. */
  private vectorSaid = false;

  constructor(private readonly opts: SessionOptions) {
    this.folder = opts.replica.folder;
    this.peer = opts.peer;
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.stopper.signal]) : this.stopper.signal;
    this.holder = { peer: opts.peer, holdFeeds: (authors) => this.askHold(authors), released: () => this.holdReleased() };
    this.requester = new BlockRequester(opts.peer, (m) => this.sendChecked(m), opts.maxInFlight, undefined, () => this.isMember(), undefined, undefined, () => (this.peerVersion ?? 1) >= 2);
    this.events = this.subject.asObservable();
  }

  /** The peer is a member of the folder in the current manifest. */
  private isMember(): boolean {
    return this.opts.replica.manifest().index.isActiveMember(this.peer);
  }

  /** Says Hello, our manifest head and our vector (to members only); watches for changes to push. */
  async start(): Promise<void> {
    this.sub = this.opts.engine.events.subscribe((e) => this.onEngine(e));
    if (!this.isMember()) return;
    this.opts.blocks?.add(this.requester);
    await this.sendChecked({ kind: 'hello', protocolVersion: PROTOCOL_VERSION, folders: [this.folder] });
    await this.sendChecked({ kind: 'manifest', folder: this.folder, head: this.opts.replica.manifest().hash, chain: [] });
    const ours = await this.opts.replica.versionVector();
    // Holds asked while this ran (the peer's Hello came) go after our Vector, which would end them.
    const said = this.sendChecked({ kind: 'vector', folder: this.folder, entries: vectorEntries(ours) });
    this.vectorSaid = true;
    const held = [...this.holdsAsked].sort();
    await Promise.all([said, held.length > 0 ? this.sendChecked({ kind: 'hold', folder: this.folder, authors: held }) : undefined]);
  }

  /** Stops pushing and fails block requests in flight; waits for what runs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.askTimer);
    this.stopper.abort();
    this.sub?.unsubscribe();
    this.opts.sources?.gone(this.holder);
    this.opts.blocks?.remove(this.requester);
    this.requester.close();
    await this.ordered.catch(() => undefined);
    await this.pushing?.catch(() => undefined);
    this.subject.complete();
  }

  /** Something changed here that the events do not show (a manifest edit): push what the peer lacks. */
  nudge(): void {
    this.kickPush();
  }

  /**
   * Messages to or from the peer may have been lost (the host dropped a delivery, a frame
   * failed): say our manifest head and vector again, so each side sends what the other lacks.
   * Entries held for a checkpoint that may never come are dropped; the peer sends them again.
   * Block requests still unanswered are sent again.
   */
  async resync(): Promise<void> {
    if (this.closed || !this.isMember()) return;
    // Block requests or replies may be among what was lost: unanswered ones are asked again.
    this.requester.resend();
    this.held = [];
    this.heldBytes = 0;
    this.chainSentFor = undefined;
    await this.sendChecked({ kind: 'manifest', folder: this.folder, head: this.opts.replica.manifest().hash, chain: [] });
    await this.sayVector(await this.opts.replica.versionVector());
  }

  /** Tells the peer which paths this node has open (members only). */
  async sendPresence(paths: readonly string[]): Promise<void> {
    if (this.closed || !this.isMember()) return;
    await this.sendChecked({ kind: 'presence', folder: this.folder, paths });
  }

  /**
   * What this session knows of the peer, for status: what it advertised, and what we sent it
   * since (a reader never pushes, so its own word would stay at what it had on connecting).
   */
  view(): { advertised?: VersionVector; refusal?: string; openPaths: readonly string[]; member: boolean } {
    const known = this.advertised && this.peerVector ? mergeVectors(this.advertised, this.peerVector) : this.advertised;
    return { advertised: known, refusal: this.peerRefusal, openPaths: this.openPaths, member: this.isMember() };
  }

  private emit(e: SessionEvent): void {
    if (!this.subject.closed) this.subject.next(e);
  }

  private async sendChecked(m: SyncMessage): Promise<void> {
    if (this.closed) throw new SyncError('SYNC_CLOSED', `session with ${this.peer} is closed`);
    await this.opts.send(m);
  }

  private onEngine(e: FolderEvent): void {
    // Local entries go at once (their files are on disk). Entries from other peers go once
    // applied here, so this peer finds their blocks on this node when it asks. What this peer
    // sent us is never sent back: its vector already shows it.
    if ((e.type === 'folder:changed' && e.origin === 'local') || e.type === 'folder:applied') this.kickPush();
  }

  /**
   * One message from the peer. Resolves once it was handled (folder messages) or taken in
   * (block messages); bytes that are not a message reject with SYNC_MALFORMED and change nothing.
   */
  async receive(bytes: Uint8Array): Promise<void> {
    if (!isBlockBytes(bytes)) {
      // Whom a backlog comes from is decided as it arrives: a batch waiting its turn behind
      // others (16 MB may queue) must not let a second sender fill the queue with copies.
      const batch = this.opts.sources !== undefined ? peekEntryBatch(bytes) : undefined;
      if (batch?.more === true && this.isMember()) this.claimOrHold(batch.author);
      // A folder message waits for its turn as the bytes it came in, decoded only then: a
      // decoded batch of entries holds a Buffer per entry besides its message, and the inbound
      // gate lets 16 MB of messages queue (a catch-up's peak RSS, 38 MB of buffers in queue).
      const run = this.ordered.then(() => {
        const m = this.decode(bytes);
        return this.closed ? undefined : this.handle(m);
      });
      this.ordered = run.catch(() => undefined);
      return run;
    }
    const m = this.decode(bytes);
    if (this.closed) return;
    if (m.kind === 'block-reply') return this.requester.onReply(m);
    if (m.kind === 'block-replies') return this.requester.onReplies(m);
    if (m.kind === 'block-request') return this.takeBlockRequest(m);
    if (m.kind === 'block-requests') return this.takeBlockRequests(m.requests);
    throw new SyncError('SYNC_MALFORMED', `${m.kind} is not a block message`);
  }

  /** Bytes that are not a message reject with SYNC_MALFORMED (and are told as sync:malformed). */
  private decode(bytes: Uint8Array): SyncMessage {
    try {
      return decodeMessage(bytes);
    } catch (e) {
      const err = isSyncError(e) ? e : new SyncError('SYNC_MALFORMED', String(e));
      this.opts.log?.(`malformed message from ${this.peer}`, err.message);
      this.emit({ type: 'sync:malformed', error: err });
      throw err;
    }
  }

  private async refuse(code: string, message: string): Promise<void> {
    // One refusal per session: a non-member learns that, and nothing from how it keeps asking.
    if (this.refusedPeer) return;
    this.refusedPeer = true;
    this.emit({ type: 'sync:refused-peer', code });
    await this.sendChecked({ kind: 'refusal', folder: this.folder, code, message });
  }

  private async handle(m: SyncMessage): Promise<void> {
    try {
      if (m.kind === 'refusal') {
        // A version-1 node refuses our Hello's version but goes on: we already talk version 1 to it.
        if (m.code === 'PROTOCOL_VERSION' && this.peerVersion !== undefined && this.peerVersion >= MIN_PROTOCOL_VERSION) return;
        if (m.code === 'UNKNOWN_FOLDER' || m.code === 'DECLINED' || m.code === 'INVITATION_PENDING') this.peerRefusal = m.code;
        this.emit({ type: 'sync:refusal', code: m.code, message: m.message });
        // The peer does not hold the folder (yet, or any more: it left): the whole chain is its
        // invitation (it checks the signatures and finds itself a member). Once until the peer
        // holds the folder again: the peer decides.
        if (m.code === 'UNKNOWN_FOLDER' && !this.invited && this.isMember()) {
          this.invited = true;
          await this.sendChecked({ kind: 'manifest', folder: this.folder, head: this.opts.replica.manifest().hash, chain: this.opts.replica.manifestChain() });
        }
        return;
      }
      this.peerRefusal = undefined;
      this.invited = false;
      if (!this.isMember()) return await this.refuse('NOT_A_MEMBER', 'not a member of this folder');
      if (m.kind === 'hello') {
        const first = this.peerVersion === undefined;
        this.peerVersion = m.protocolVersion;
        if (m.protocolVersion < MIN_PROTOCOL_VERSION) return await this.sendChecked({ kind: 'refusal', folder: this.folder, code: 'PROTOCOL_VERSION', message: `this node speaks version ${PROTOCOL_VERSION}` });
        // Our own Hello may never have reached the peer: an inviter's goes out before the peer
        // holds the folder (it is refused as UNKNOWN_FOLDER), and then the peer asked us for
        // every block of a 10k-file share in messages of one. Once per session, so two Hellos
        // crossing each other end there.
        if (first) await this.sendChecked({ kind: 'hello', protocolVersion: PROTOCOL_VERSION, folders: [this.folder] });
        if (first) this.opts.sources?.spoke(this.holder);
        return;
      }
      if ('folder' in m && m.folder !== this.folder) {
        this.opts.log?.(`${m.kind} for folder ${m.folder} on the session of ${this.folder}: dropped`);
        return;
      }
      switch (m.kind) {
        case 'manifest':
          if (m.chain.length > 0) await this.ingest({ manifests: m.chain });
          this.peerManifestHead = m.head;
          if (m.head !== this.opts.replica.manifest().hash) this.kickPush();
          return;
        case 'vector':
          this.advertised = vectorOf(m.entries);
          this.emit({ type: 'sync:peer-vector', vector: this.advertised });
          // The peer's word replaces what we believed we had sent it: a Vector comes at the start
          // and after a loss, and entries we sent may be what was lost. Entries in flight are sent
          // again at worst, and a duplicate is harmless.
          this.peerVector = vectorOf(m.entries);
          this.vectorGeneration++;
          this.peerHolds.clear();
          this.owesCaughtUp = true;
          this.kickPush();
          return;
        case 'entries': {
          if (m.checkpoints.length === 0) {
            // The front of a batch too long for one message: validated with its checkpoints.
            const bytes = m.entries.reduce((n, e) => n + e.length, 0);
            if (this.heldBytes + bytes > MAX_HELD_BYTES) {
              this.held = [];
              this.heldBytes = 0;
              throw new SyncError('SYNC_MALFORMED', `more than ${MAX_HELD_BYTES} bytes of entries without a checkpoint`);
            }
            this.held.push(...m.entries);
            this.heldBytes += bytes;
            return;
          }
          const entries = this.held.length > 0 ? [...this.held, ...m.entries] : m.entries;
          this.held = [];
          this.heldBytes = 0;
          const last = lastEntry(entries);
          const more = m.more === true || this.sendsMore(last);
          const result = await this.ingest({ entries, checkpoints: m.checkpoints }, more);
          this.peerHas(last);
          if (last !== undefined) this.noteSource(last.author, more && result.refusals.length === 0);
          return;
        }
        case 'caught-up': {
          // No Vector of the peer's reached this session: it said it before we listened (its
          // sidecar and ours restarted while the hosts stayed up, and the host dropped it with
          // no notice). A CaughtUp carries its whole vector, so it is the word to push from;
          // without this neither side ever sends what the other lacks.
          const unheard = this.advertised === undefined;
          this.advertised = mergeVectors(this.advertised ?? new Map(), vectorOf(m.vector));
          this.peerVector = mergeVectors(this.peerVector ?? new Map(), vectorOf(m.vector));
          this.emit({ type: 'sync:caught-up', vector: vectorOf(m.vector) });
          this.opts.sources?.endedAll(this.peer);
          if (unheard) this.kickPush();
          await this.checkBehind(vectorOf(m.vector));
          return;
        }
        case 'presence':
          this.openPaths = m.paths;
          this.emit({ type: 'sync:presence', paths: m.paths });
          return;
        case 'hold':
          for (const a of m.authors) this.peerHolds.add(a);
          return;
        case 'resume':
          // The peer's word for these feeds, raised only: what we sent that it has not taken in
          // yet is on its way (a loss shows in its answer to our CaughtUp).
          for (const f of m.feeds) {
            this.peerHolds.delete(f.author);
            // Before the peer's Vector we push nothing: a vector of these feeds alone would say it lacks all others.
            if (f.head === undefined || this.peerVector === undefined) continue;
            if ((this.peerVector.get(f.author)?.seq ?? 0) < f.seq) this.peerVector.set(f.author, { seq: f.seq, head: f.head });
          }
          this.kickPush();
          return;
      }
    } catch (e) {
      if (this.closed || this.signal.aborted) return;
      this.opts.log?.(`handling ${m.kind} from ${this.peer}`, e);
      this.emit({ type: 'sync:problem', message: `${m.kind}: ${String((e as Error)?.message ?? e)}`, error: e });
    }
  }

  /**
   * Whether the peer's feed, as its Vector said, goes on past the last of these entries (it is
   * sending us a backlog): for a peer that does not say `more` (version 2).
   */
  private sendsMore(last: LastEntry | undefined): boolean {
    return last !== undefined && (this.advertised?.get(last.author)?.seq ?? 0) > last.seq;
  }

  private async ingest(input: { manifests?: readonly Uint8Array[]; entries?: readonly Uint8Array[]; checkpoints?: readonly Uint8Array[] }, more = false): Promise<IngestResult> {
    // The engine's ingest runs the log's and the manifest's validation: nothing is taken on trust.
    const result = await this.opts.engine.ingest(input, { peer: this.peer, more });
    this.emit({ type: 'sync:ingested', result });
    if (result.refusals.length > 0 || result.manifestRefusals.length > 0) {
      this.opts.log?.(`refused from ${this.peer}`, { refusals: result.refusals, manifestRefusals: result.manifestRefusals });
      this.emit({ type: 'sync:refused-input', refusals: result.refusals, manifestRefusals: result.manifestRefusals.length });
      const first = result.refusals[0];
      const what = first ? `${first.reason}: ${first.detail}` : `${result.manifestRefusals[0].reason}: ${result.manifestRefusals[0].detail}`;
      await this.sendChecked({ kind: 'refusal', folder: this.folder, code: 'ENTRIES_REFUSED', message: `${result.refusals.length + result.manifestRefusals.length} refused; ${what}`.slice(0, 1000) });
    }
    if (result.manifestsApplied.length > 0) this.kickPush();
    return result;
  }

  /**
   * The peer's batch of `author`'s feed went through our ingest: with more to follow it stays
   * (or becomes) the feed's source unless another peer is; without more, or refused, its push
   * of the feed is done (the peers held for it go on).
   */
  private noteSource(author: Fingerprint, more: boolean): void {
    if (more) this.claimOrHold(author);
    else this.opts.sources?.ended(author, this.peer);
  }

  /**
   * The peer sends `author`'s feed with more to follow: it is the feed's source unless another
   * peer already is, and then it is asked to hold the feed (a version-4 peer; an older one
   * keeps sending, as before).
   */
  private claimOrHold(author: Fingerprint): void {
    if (this.opts.sources?.sending(author, this.peer) === true) this.askHold([author]);
  }

  /** Asks a version-4 peer to hold these feeds (not its own, not twice); Resume or our next Vector ends it. */
  private askHold(authors: readonly Fingerprint[]): void {
    const { sources } = this.opts;
    if (sources === undefined || this.closed || (this.peerVersion ?? 1) < 4) return;
    const fresh = authors.filter((a) => a !== this.peer && !this.holdsAsked.has(a)).sort();
    if (fresh.length === 0) return;
    for (const a of fresh) {
      this.holdsAsked.add(a);
      sources.hold(a, this.holder);
    }
    if (!this.vectorSaid) return;
    this.sendChecked({ kind: 'hold', folder: this.folder, authors: fresh }).catch((e: unknown) => {
      if (!this.closed) this.opts.log?.(`asking ${this.peer} to hold`, e);
    });
  }

  /**
   * The source of a feed we hold at the peer is done: Resume, with where we are in each feed
   * no other peer sends now, brings what the source did not send. (Not our Vector: that would
   * restart the peer's pushes of other feeds from our word, resending what is under way.)
   */
  private holdReleased(): void {
    if (this.closed || this.holdsAsked.size === 0) return;
    void (async () => {
      const ours = await this.opts.replica.versionVector();
      const done = [...this.holdsAsked].filter((a) => (this.opts.sources?.sourceOf(a) ?? this.peer) === this.peer).sort();
      if (done.length === 0 || this.closed) return;
      for (const a of done) this.holdsAsked.delete(a);
      const feeds = done.map((author) => {
        const h = ours.get(author);
        return h === undefined ? { author, seq: 0 } : { author, seq: h.seq, head: h.head };
      });
      await this.sendChecked({ kind: 'resume', folder: this.folder, feeds });
    })().catch((e: unknown) => {
      if (!this.closed) this.opts.log?.(`asking ${this.peer} to go on after a hold`, e);
    });
  }

  /** Our Vector: the peer sends what it lacks, and forgets every hold we asked. */
  private async sayVector(ours: VersionVector): Promise<void> {
    this.holdsAsked.clear();
    this.opts.sources?.forget(this.holder);
    await this.sendChecked({ kind: 'vector', folder: this.folder, entries: vectorEntries(ours) });
  }

  /**
   * The peer says it sent us everything up to `theirs`, all of it handled here by now (this
   * runs on the ordered path): if we still lack some of it, a message was lost on the way (the
   * host dropped a delivery it could not queue, or a frame failed without a notice). Our
   * Vector tells the peer where to start again: at once if we moved on since we last asked,
   * else after a backoff (the answer may have been lost too, or the peer keeps sending
   * entries our validation refuses: then asking again must not become a loop).
   */
  private async checkBehind(theirs: VersionVector): Promise<void> {
    const ours = await this.opts.replica.versionVector();
    // A feed held at this peer comes from its source; Resume goes out when that is done.
    if (!isBehind(ours, theirs, this.holdsAsked)) return;
    const at = JSON.stringify(vectorEntries(ours));
    if (this.askedAgainAt !== at) {
      this.askedAgainAt = at;
      this.asksAtState = 0;
      clearTimeout(this.askTimer);
      this.askTimer = undefined;
      await this.askAgain(ours);
      return;
    }
    if (this.askTimer || this.closed) return;
    const delay = Math.min(ASK_AGAIN_MIN_MS * 2 ** this.asksAtState++, ASK_AGAIN_MAX_MS);
    this.askTimer = setTimeout(() => {
      this.askTimer = undefined;
      void (async () => {
        const now = await this.opts.replica.versionVector();
        if (this.closed || !this.advertised || !isBehind(now, this.advertised, this.holdsAsked)) return;
        await this.askAgain(now);
      })().catch((e: unknown) => {
        if (!this.closed) this.opts.log?.(`asking ${this.peer} again`, e);
      });
    }, delay);
    this.askTimer.unref?.();
  }

  private async askAgain(ours: VersionVector): Promise<void> {
    this.opts.log?.(`${this.peer} says it sent entries we lack: asking again from our vector`);
    await this.sayVector(ours);
  }

  /**
   * The peer holds the feed up to the last of these entries (it sent them, or we did). A push
   * passes the vector generation it started under: once the peer's newer Vector replaced
   * `peerVector`, what that push sent before it may be lost and must not count.
   */
  private peerHas(last: LastEntry | undefined, generation = this.vectorGeneration): void {
    if (last === undefined || generation !== this.vectorGeneration) return;
    this.peerVector ??= new Map();
    const had = this.peerVector.get(last.author);
    if (!had || had.seq < last.seq) this.peerVector.set(last.author, { seq: last.seq, head: last.hash });
  }

  private kickPush(): void {
    this.pushWanted = true;
    if (this.pushing || this.closed) return;
    this.pushing = (async () => {
      while (this.pushWanted && !this.closed) {
        this.pushWanted = false;
        try {
          await this.pushOnce();
        } catch (e) {
          if (this.closed || this.signal.aborted) return;
          this.opts.log?.(`pushing to ${this.peer}`, e);
          this.emit({ type: 'sync:problem', message: `push: ${String((e as Error)?.message ?? e)}`, error: e });
        }
      }
    })().finally(() => {
      this.pushing = null;
    });
  }

  private async pushOnce(): Promise<void> {
    if (!this.isMember()) return;
    const { replica } = this.opts;
    const head = replica.manifest().hash;
    if (this.peerManifestHead !== undefined && this.peerManifestHead !== head && this.chainSentFor !== head) {
      this.chainSentFor = head;
      await this.sendChecked({ kind: 'manifest', folder: this.folder, head, chain: replica.manifestChain() });
    }
    if (this.peerVector === undefined) return;
    const generation = this.vectorGeneration;
    const ours = await replica.versionVector();
    // Feeds the peer holds (another peer sends them) wait for its Resume or next Vector.
    const ranges = (await replica.missingFor(this.peerVector)).ranges.filter((r) => !this.peerHolds.has(r.author));
    let sent = 0;
    const limit = this.opts.maxMessageEntryBytes ?? DEFAULT_ENTRY_BYTES;
    const batches = replica.entriesFor(ranges, { signal: this.signal, batchEntries: this.opts.batchEntries })[Symbol.asyncIterator]();
    const tellsMore = (this.peerVersion ?? 1) >= 3;
    // One batch read ahead, to say whether more follows (the peer applies after the last one).
    try {
      for (let at = await batches.next(); !at.done; ) {
        const b = at.value;
        at = await batches.next();
        const last = lastEntry(b.entries);
        // A Hold that came while this push ran stops its feed here.
        if (last !== undefined && this.peerHolds.has(last.author)) continue;
        let chunk: Uint8Array[] = [];
        let bytes = 0;
        for (const e of b.entries) {
          if (chunk.length > 0 && bytes + e.length > limit) {
            await this.sendChecked({ kind: 'entries', folder: this.folder, entries: chunk, checkpoints: [] });
            chunk = [];
            bytes = 0;
          }
          chunk.push(e);
          bytes += e.length + 4;
        }
        await this.sendChecked({ kind: 'entries', folder: this.folder, entries: chunk, checkpoints: b.checkpoints, ...(tellsMore && !at.done ? { more: true } : {}) });
        this.peerHas(last, generation);
        sent += b.entries.length;
      }
    } finally {
      await batches.return?.(undefined);
    }
    if (sent === 0 && !this.owesCaughtUp) return;
    this.owesCaughtUp = false;
    await this.sendChecked({ kind: 'caught-up', folder: this.folder, vector: vectorEntries(ours) });
    this.emit({ type: 'sync:sent-caught-up', vector: ours, entries: sent });
  }

  /** Takes a block request in once a serving slot is free; answers it in the background. */
  private async takeBlockRequest(m: Extract<SyncMessage, { kind: 'block-request' }>): Promise<void> {
    if (!this.isMember()) return this.refuse('NOT_A_MEMBER', 'not a member of this folder');
    while (this.serving >= MAX_SERVING) await new Promise<void>((r) => this.servingWaiters.push(r));
    this.serving++;
    void (async () => {
      try {
        const data = await this.opts.engine.localBlocks.read(m.hash, m.size, this.signal).catch(() => undefined);
        await this.sendChecked({ kind: 'block-reply', id: m.id, hash: m.hash, data });
      } catch (e) {
        if (!this.closed) this.opts.log?.(`serving block ${m.hash} to ${this.peer}`, e);
      } finally {
        this.serving--;
        this.servingWaiters.shift()?.();
      }
    })();
  }

  /**
   * A BlockRequests: answered after the ones before it, in its order, in BlockReplies of about
   * REPLY_BATCH_BYTES. What the peer asked beyond MAX_SERVING_BYTES unanswered is answered
   * "not here" at once: the peer's window keeps an honest peer far below it.
   */
  private async takeBlockRequests(requests: readonly BlockRequestItem[]): Promise<void> {
    if (!this.isMember()) return this.refuse('NOT_A_MEMBER', 'not a member of this folder');
    const bytes = requests.reduce((n, r) => n + r.size, 0);
    if (this.servingBytes + bytes > MAX_SERVING_BYTES) {
      this.opts.log?.(`${this.peer} asked for more than ${MAX_SERVING_BYTES} bytes of blocks at once; answered as missing`);
      await this.sendChecked({ kind: 'block-replies', replies: requests.map((r) => ({ id: r.id, hash: r.hash })) }).catch(() => undefined);
      return;
    }
    this.servingBytes += bytes;
    this.servingBatches = this.servingBatches
      .then(() => this.serveBatch(requests))
      .catch((e: unknown) => {
        if (!this.closed) this.opts.log?.(`serving blocks to ${this.peer}`, e);
      })
      .finally(() => {
        this.servingBytes -= bytes;
      });
  }

  private async serveBatch(requests: readonly BlockRequestItem[]): Promise<void> {
    const blocks = this.opts.engine.localBlocks;
    // Where all of them are, in one lookup: reads started one by one as others finish each
    // looked theirs up alone (10k small files served twice cost 20k queries).
    blocks.prefetch?.(requests, this.signal);
    const reads: Promise<Uint8Array | undefined>[] = [];
    let next = 0;
    let aheadBytes = 0;
    const fill = (packing: number): void => {
      while (next < requests.length && !this.closed && next - packing < SERVE_READS && (aheadBytes < SERVE_AHEAD_BYTES || next === packing)) {
        const r = requests[next];
        reads[next++] = blocks.read(r.hash, r.size, this.signal).catch(() => undefined);
        aheadBytes += r.size;
      }
    };
    let batch: BlockReplyItem[] = [];
    let batchBytes = 0;
    for (let i = 0; i < requests.length && !this.closed; i++) {
      fill(i);
      const data = await reads[i];
      aheadBytes -= requests[i].size;
      const size = data?.length ?? 0;
      if (batch.length > 0 && (batchBytes + size >= REPLY_BATCH_BYTES || blockRepliesBytes(batchBytes + size, batch.length + 1) > MAX_MESSAGE_BYTES || batch.length >= MAX_BATCH_BLOCKS)) {
        await this.sendChecked({ kind: 'block-replies', replies: batch });
        batch = [];
        batchBytes = 0;
      }
      batch.push({ id: requests[i].id, hash: requests[i].hash, data });
      batchBytes += size;
    }
    if (batch.length > 0 && !this.closed) await this.sendChecked({ kind: 'block-replies', replies: batch });
  }
}

interface LastEntry {
  readonly author: Fingerprint;
  readonly seq: number;
  readonly hash: string;
}

/** Where a batch ends in its author's feed; undefined for none, or bytes that are no entry (ingest refuses those too). */
function lastEntry(entries: readonly Uint8Array[]): LastEntry | undefined {
  if (entries.length === 0) return undefined;
  try {
    const { entry, hash } = decodeHashedEntry(entries[entries.length - 1]);
    return { author: entry.author, seq: entry.seq, hash };
  } catch {
    return undefined;
  }
}
