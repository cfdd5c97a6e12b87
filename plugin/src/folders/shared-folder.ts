/**
 * One folder this node holds, running: its replica and engine, the sync session with each
 * peer it talks to about the folder, and what its status is made of (files waiting for
 * blocks, the receive rate, who has what open).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Subject, type Subscription } from 'rxjs';
import { clearPartials } from '../apply';
import { FolderEngine, type FolderEvent } from '../folder';
import { decodeEntry, type Entry, type Fingerprint, type Hash, type Signer, type SignatureVerifier } from '../log';
import { FolderReplica } from '../replica';
import { META_DIR, type FsTraits } from '../scan';
import type { Store } from '../store';
import { FeedSources, PeerBlockSource, SyncSession, type SessionEvent, type SyncMessage } from '../sync';
import type { FolderRecord } from './registry';
import { PEER_ANSWER_MS, type VectorLike } from './status';

export interface SharedFolderOptions {
  readonly record: FolderRecord;
  readonly store: Store;
  readonly self: Fingerprint;
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  readonly clock: () => number;
  readonly log: (message: string, detail?: unknown) => void;
  readonly fsTraits?: FsTraits;
  readonly scan?: { readonly rescanIntervalMs?: number; readonly quietMs?: number; readonly maxWaitMs?: number; readonly settleMs?: number };
  /** Sends one message of this folder to a peer (the service seals and routes it). */
  readonly send: (peer: Fingerprint, m: SyncMessage) => Promise<void>;
  /** How long a session waits for the peer's first word before saying `peer-silent` (PEER_ANSWER_MS). */
  readonly peerAnswerMs?: number;
}

export type SharedFolderEvent =
  | { readonly type: 'engine'; readonly event: FolderEvent }
  | { readonly type: 'session'; readonly peer: Fingerprint; readonly event: SessionEvent }
  /** The session with `peer` has waited peerAnswerMs without a word from it: its status changes now. */
  | { readonly type: 'peer-silent'; readonly peer: Fingerprint };

const RATE_SAMPLES = 60;

export class SharedFolder {
  readonly id: string;
  readonly events = new Subject<SharedFolderEvent>();
  readonly sessions = new Map<Fingerprint, SyncSession>();
  readonly blocks: PeerBlockSource;
  /** Paths waiting for blocks no peer could give yet, with their sizes. */
  readonly pending = new Map<string, number>();
  /** Paths peers changed that apply has not run for yet (status counts them as behind). */
  readonly toApply = new Set<string>();
  private toApplyGeneration = 0;
  /** Paths the panel says this node has open (told to peers as presence, with `openByProcesses`). */
  readonly openHere = new Set<string>();
  /** Paths some process here holds open (from /proc). */
  openByProcesses = new Set<string>();
  private presenceSent = '';
  /**
   * Each peer's vector as it last said it, in this link's life or an earlier one (kept in the
   * store, so a restart starts from it): what status counts with while a peer has not spoken.
   */
  private readonly lastVectors: Map<Fingerprint, VectorLike>;
  /** Peers whose vector changed since it was last saved (saved once a second, not per message). */
  private readonly unsavedVectors = new Set<Fingerprint>();
  private saving: Promise<void> = Promise.resolve();
  readonly rateHistory: number[] = [];
  private lastBytes = 0;
  private readonly subs: Subscription[] = [];
  private closed = false;
  /** When each session started, and the timer that says when its peer has been silent too long. */
  private readonly sessionStarts = new Map<Fingerprint, { readonly atMs: number; readonly timer: NodeJS.Timeout }>();
  /** Which peer sends each feed's backlog: the others hold it meanwhile. */
  private readonly sources = new FeedSources();

  private constructor(
    readonly record: FolderRecord,
    readonly replica: FolderReplica,
    readonly engine: FolderEngine,
    blocks: PeerBlockSource,
    private readonly opts: SharedFolderOptions,
    lastVectors: Map<Fingerprint, VectorLike>,
  ) {
    this.id = record.id;
    this.lastVectors = lastVectors;
    this.blocks = blocks;
    this.subs.push(engine.events.subscribe((e) => this.onEngine(e)));
  }

  static async open(opts: SharedFolderOptions, replica?: FolderReplica): Promise<SharedFolder> {
    const { record, store, self, signer, verifier, clock } = opts;
    const r = replica ?? (await FolderReplica.open({ store, folder: record.id, self, signer, verifier, clock }));
    let lastVectors: Map<Fingerprint, VectorLike>;
    try {
      lastVectors = keptVectors(await store.peerVectors(record.id));
    } catch (e) {
      await r.close().catch(() => undefined);
      throw e;
    }
    const blocks = new PeerBlockSource((m, d) => opts.log(m, d));
    let engine: FolderEngine;
    try {
      engine = await FolderEngine.start({ root: record.root, store, replica: r, self, blocks, clock, fsTraits: opts.fsTraits, scan: opts.scan, log: opts.log });
    } catch (e) {
      await r.close().catch(() => undefined);
      throw e;
    }
    return new SharedFolder(record, r, engine, blocks, opts, lastVectors);
  }

  get name(): string {
    return this.replica.manifest().manifest.name;
  }

  get chatRoom(): string {
    return `kinfolder-${this.id}`;
  }

  private onEngine(e: FolderEvent): void {
    if (e.type === 'folder:refused' && e.code === 'APPLY_BLOCK_UNAVAILABLE' && e.path) {
      // A conflict copy waits under the path it copies: that path's next apply is what writes
      // it, or finds it gone (the conflict resolved), and only then is it no longer waiting.
      const at = e.of ?? e.path;
      if (!this.pending.has(at)) {
        this.pending.set(at, 0);
        void this.replica.state
          .resolve(at)
          .then((r) => (r?.winner.live ? this.entry(r.winner.hash) : undefined))
          .then(
            (entry) => {
              if (this.pending.has(at) && entry && entry.body.op !== 'delete') this.pending.set(at, entry.body.meta.size);
            },
            () => undefined,
          );
      }
    } else if (e.type === 'folder:applied') {
      const waiting = new Set(e.waiting);
      for (const p of e.paths) {
        if (!waiting.has(p)) this.pending.delete(p);
        this.toApply.delete(p);
      }
    }
    if (e.type === 'folder:changed' && e.origin === 'peer' && this.toApply.size < 1_000_000) {
      this.toApplyGeneration++;
      for (const p of e.paths) this.toApply.add(p);
    }
    this.events.next({ type: 'engine', event: e });
  }

  /** A stored entry of this folder, decoded; undefined when it is not here. */
  async entry(hash: Hash): Promise<Entry | undefined> {
    const rec = await this.opts.store.entry(hash);
    return rec ? decodeEntry(rec.bytes) : undefined;
  }

  /** The session with `peer`, made (and started) if there is none. */
  session(peer: Fingerprint): SyncSession {
    const had = this.sessions.get(peer);
    if (had) return had;
    const s = new SyncSession({
      engine: this.engine,
      replica: this.replica,
      peer,
      send: (m) => this.opts.send(peer, m),
      blocks: this.blocks,
      sources: this.sources,
      log: this.opts.log,
    });
    this.sessions.set(peer, s);
    const timer = setTimeout(() => {
      if (this.sessions.get(peer) === s && this.silentMs(peer) !== undefined) this.events.next({ type: 'peer-silent', peer });
    }, this.opts.peerAnswerMs ?? PEER_ANSWER_MS);
    timer.unref();
    this.sessionStarts.set(peer, { atMs: this.opts.clock(), timer });
    s.events.subscribe((event) => {
      if (event.type === 'sync:peer-vector' || event.type === 'sync:caught-up') this.heard(peer, s);
      this.events.next({ type: 'session', peer, event });
    });
    s.start()
      .then(() => (this.presenceSent ? s.sendPresence(this.openPaths()) : undefined))
      .catch((e: unknown) => this.opts.log(`starting sync of ${this.id} with ${peer}`, e));
    return s;
  }

  /** How long the session with `peer` has waited for its first word; undefined once it spoke (or with no session). */
  silentMs(peer: Fingerprint): number | undefined {
    const s = this.sessions.get(peer);
    const start = this.sessionStarts.get(peer);
    if (!s || !start) return undefined;
    const v = s.view();
    return v.advertised || v.refusal !== undefined ? undefined : Math.max(0, this.opts.clock() - start.atMs);
  }

  /** The peer said what it has: remembered as its last known vector, to be saved. */
  private heard(peer: Fingerprint, s: SyncSession): void {
    const v = s.view().advertised;
    if (!v) return;
    this.lastVectors.set(peer, v);
    this.unsavedVectors.add(peer);
  }

  /** The last vector `peer` said, in this link's life or before; undefined if it never did. */
  lastVector(peer: Fingerprint): VectorLike | undefined {
    return this.lastVectors.get(peer);
  }

  /** Saves the vectors peers said since the last save (called once a second and on close); one save at a time. */
  saveVectors(): Promise<void> {
    this.saving = this.saving.then(() => this.saveVectorsNow());
    return this.saving;
  }

  private async saveVectorsNow(): Promise<void> {
    for (const peer of [...this.unsavedVectors]) {
      this.unsavedVectors.delete(peer);
      const v = this.lastVectors.get(peer);
      if (!v) continue;
      const seqs = new Map<string, number>();
      for (const author of v.keys()) seqs.set(author, v.get(author)?.seq ?? 0);
      try {
        await this.opts.store.setPeerVector(this.id, peer, seqs);
      } catch (e) {
        // Status after a restart then starts from an older vector: a lower bound still.
        this.opts.log(`saving the vector of ${peer}`, e);
      }
    }
  }

  async closeSession(peer: Fingerprint): Promise<void> {
    const s = this.sessions.get(peer);
    if (!s) return;
    this.sessions.delete(peer);
    clearTimeout(this.sessionStarts.get(peer)?.timer);
    this.sessionStarts.delete(peer);
    await s.close();
  }

  private quietTicks = 0;

  /**
   * Drops the partial files of cut transfers once nothing is waiting or moving for a few
   * seconds (what they were for is in place, or wanted no more); called once a second. Also the
   * blocks an older version kept in `.kinfolder/incoming/` instead.
   */
  async clearIncomingWhenIdle(): Promise<void> {
    const idle = this.pending.size === 0 && this.blocks.requestsInFlight === 0 && (this.rateHistory[this.rateHistory.length - 1] ?? 0) === 0;
    this.quietTicks = idle ? this.quietTicks + 1 : 0;
    if (this.quietTicks !== 5) return;
    await this.clearIncoming();
  }

  private async clearIncoming(): Promise<void> {
    await clearPartials(this.record.root).catch(() => undefined);
    await fsp.rm(path.join(this.record.root, META_DIR, 'incoming'), { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * Once the engine's apply queue has run dry with nothing new arriving meanwhile, nothing is
   * left to apply: whatever an apply run did not report is not waiting (called once a second).
   */
  settleToApply(): void {
    if (this.toApply.size === 0) return;
    const generation = this.toApplyGeneration;
    void this.engine.idle().then(() => {
      if (generation === this.toApplyGeneration) this.toApply.clear();
    });
  }

  /** Everything open here, in the order peers are told. */
  openPaths(): string[] {
    return [...new Set([...this.openHere, ...this.openByProcesses])].sort().slice(0, 256);
  }

  /** Tells every peer what is open here, if that changed since the last time (or `force`). */
  async sendPresence(force = false): Promise<void> {
    const paths = this.openPaths();
    const key = paths.join('\0');
    if (!force && key === this.presenceSent) return;
    this.presenceSent = key;
    await Promise.all([...this.sessions.values()].map((s) => s.sendPresence(paths).catch(() => undefined)));
  }

  /** Samples the receive rate; called once a second. */
  sampleRate(): void {
    const now = this.blocks.bytesReceived;
    this.rateHistory.push(Math.max(0, now - this.lastBytes));
    this.lastBytes = now;
    if (this.rateHistory.length > RATE_SAMPLES) this.rateHistory.shift();
  }

  get pendingBytes(): number {
    let n = 0;
    for (const v of this.pending.values()) n += v;
    return n;
  }

  /** Closes the folder for good (this node leaves it): the partial files kept for resuming go too. */
  async closeForGood(): Promise<void> {
    await this.close();
    await this.clearIncoming();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of [...this.sessions.keys()]) await this.closeSession(peer);
    this.sources.close();
    await this.saveVectors();
    for (const s of this.subs) s.unsubscribe();
    await this.engine.stop().catch((e: unknown) => this.opts.log(`stopping the engine of ${this.id}`, e));
    await this.replica.close().catch(() => undefined);
    this.events.complete();
  }
}

/** The store's rows of peer vectors, by peer. */
function keptVectors(rows: readonly { readonly peer: string; readonly author: string; readonly seq: number }[]): Map<Fingerprint, VectorLike> {
  const out = new Map<Fingerprint, Map<string, { seq: number }>>();
  for (const r of rows) {
    let v = out.get(r.peer);
    if (!v) out.set(r.peer, (v = new Map()));
    v.set(r.author, { seq: r.seq });
  }
  return out;
}
