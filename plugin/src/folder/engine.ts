/**
 * One shared folder on this node: the scanner turns local edits into entries of the replica,
 * and every local append or remote ingest is followed by an apply of the paths it touched.
 * Applies, restores and resolutions run one at a time (a queue); paths that arrive while an
 * apply runs are gathered into the next one.
 *
 * Base versions: a local change names as parents the entries the local file was BASED on (what
 * apply last wrote at the path, or what the scanner last announced there), kept per path in
 * the store's `local_base`. Naming the path's current heads instead would let a local edit made
 * while a remote version arrived (apply refused to overwrite it) supersede that version without
 * anyone having seen it; with the base, the two are concurrent heads: a conflict, both kept.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Subject, type Observable } from 'rxjs';
import { compareUtf8, decodeEntry, pathsOf, type Entry, type FileMeta, type Fingerprint, type Hash, type NewChange, type ParentRef } from '../log';
import type { FeedCutReport, FolderReplica, IngestInput, IngestResult } from '../replica';
import {
  applyState,
  ChainedBlockSource,
  EmptyFiles,
  entryLookup,
  GroupSync,
  LocalBlockSource,
  conflictCopiesOf,
  parseVersionName,
  removeCopies,
  resolveWith,
  staleCopies,
  Versions,
  VERSIONS_REL,
  type ApplyReport,
  type BlockSource,
  type EntryLookup,
  type KeptVersion,
  type ResolvedPath,
  type ResolvedVersion,
  type Retention,
} from '../apply';
import { FolderScanner, IgnoreRules, type FsTraits, type KnownFile, type LocalChange, type ScanEvent, type ScannedFile } from '../scan';
import { isReplicaError } from '../replica';
import type { BlockIndex, BlockLocation, BlockPaths, EntryStore, LocalBaseStore, LocalFileRecord, LocalIndexStore } from '../store';
import { FolderError, throwIfAborted } from './errors';
import { keptFolder } from './kept-blocks';
import { keepRefused, type WinnerContent } from './keep-refused';
import { LocalCopies } from './local-copies';
import { NO_VERSION, resolvePaths, type ResolvedPaths } from './resolve-paths';
import { JustWritten } from './just-written';
import { RetryTimer } from './retry-timer';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;
/**
 * Paths waiting for apply past which an ingest waits for the apply run in progress: below it,
 * a catch-up's log runs ahead of writing its files (a node that was away knows what it missed,
 * and says so, long before its disk has it), at ~100 bytes a path.
 */
export const INGEST_AHEAD_PATHS = 200_000;
/**
 * Longest an apply waits behind ingests that say more entries follow (a catch-up: the log
 * first, as fast as it comes, then the files); past it, apply runs alongside.
 */
export const APPLY_DEFER_MS = 10_000;
/**
 * Entries kept in memory for the apply that follows (see `recent`); past this, apply reads
 * them back from the store in batches (an entry held is ~0.5 KB: an ingest far ahead of apply
 * must not hold them all).
 */
const RECENT_ENTRIES = 4096;
/** Most paths resolved and applied in one apply run (see applyPaths). */
export const APPLY_RUN_PATHS = 4096;
/** Apply refusals tried again with backoff (see applyPaths). */
const RETRIED_REFUSALS = new Set<string>(['APPLY_BLOCK_UNAVAILABLE', 'APPLY_IO']);

/** Refusals of a local change that no retry will turn into an acceptance: the change is kept as a local copy. */
const KEPT_REASONS = new Set(['NOT_A_WRITER', 'OUTSIDE_PATH_GRANT', 'REVOKED', 'UNKNOWN_AUTHOR']);
/** Of those, the ones about a path rather than the member: a batch is split to find the paths. */
const PATH_REASONS = new Set(['OUTSIDE_PATH_GRANT']);

/** What the engine needs of the store. */
export type EngineStore = Pick<EntryStore, 'entry' | 'entries' | 'heads' | 'headsAt' | 'lamports' | 'pathsWithHeads'> & LocalIndexStore & LocalBaseStore & BlockIndex & BlockPaths;

export interface FolderEngineOptions {
  readonly root: string;
  readonly store: EngineStore;
  readonly replica: FolderReplica;
  /** This node's fingerprint (the replica's `self`). */
  readonly self: Fingerprint;
  /** Blocks not found in local files (the sync layer's source, later). */
  readonly blocks?: BlockSource;
  /** Wall clock (ms) for entries' display time, version stamps and retention. */
  readonly clock: () => number;
  readonly retention?: Retention;
  /**
   * An apply run that takes longer than this is reported (a folder:problem APPLY_SLOW naming
   * the step it is at), again each time as long again passes: a run that never ends holds
   * every later apply and a peer's ingest behind it (default 60 s).
   */
  readonly slowApplyMs?: number;
  /** Most paths resolved and applied in one apply run (default APPLY_RUN_PATHS; see applyPaths). */
  readonly applyRunPaths?: number;
  /** Paths waiting for apply past which an ingest waits for it (default INGEST_AHEAD_PATHS). */
  readonly ingestAheadPaths?: number;
  /** Entries held in memory for the next apply (default RECENT_ENTRIES; the rest are read back from the store). */
  readonly recentEntries?: number;
  /** Longest an apply waits behind ingests that say more follows (default APPLY_DEFER_MS). */
  readonly applyDeferMs?: number;
  readonly signal?: AbortSignal;
  readonly log?: (message: string, detail?: unknown) => void;
  readonly fsTraits?: FsTraits;
  /** Scanner timing (tests shorten or lengthen them). */
  readonly scan?: { readonly rescanIntervalMs?: number; readonly quietMs?: number; readonly maxWaitMs?: number; readonly settleMs?: number };
}

export type FolderEvent =
  /** Entries were added to the log: by the scanner here ('local') or received from a peer. */
  | { readonly type: 'folder:changed'; readonly origin: 'local' | 'peer'; readonly peer?: string; readonly entries: number; readonly paths: readonly string[] }
  /**
   * An apply run finished: the paths it ran for, and those of them (a conflict copy of them
   * included) still waiting for blocks no peer gave yet or after an I/O error: tried again later.
   */
  | { readonly type: 'folder:applied'; readonly paths: readonly string[]; readonly waiting: readonly string[]; readonly report: ApplyReport }
  /**
   * `heads`: the path has several live heads (winner at the path, losers as copies);
   * `local-changed`: a local edit nobody has announced yet was left alone (the scanner announces it).
   */
  | { readonly type: 'folder:conflict'; readonly path: string; readonly kind: 'heads' | 'local-changed' }
  /**
   * A path apply, the scanner or ingest refused, with the reason. A local change the manifest
   * does not allow (code WRITE_REFUSED, `reason` NOT_A_WRITER, OUTSIDE_PATH_GRANT, ...) is never
   * announced: its bytes are kept on this node at `copy` (none for a delete, or when the
   * change held the log's own content) and the log's version is put back at the path.
   */
  | {
      readonly type: 'folder:refused';
      readonly path: string;
      readonly source: 'apply' | 'scan' | 'ingest';
      readonly code?: string;
      readonly reason?: string;
      readonly copy?: string;
      /** For a conflict copy apply could not write: the path it is a copy of (what a retry applies again). */
      readonly of?: string;
      readonly message: string;
    }
  /** Something went wrong outside one path's rules (a store error, an unreadable name). */
  | { readonly type: 'folder:problem'; readonly path?: string; readonly code?: string; readonly message: string; readonly error?: unknown };

/** One version of a path in conflict, for display and for `resolve`. */
export interface ConflictVersion {
  readonly hash: Hash;
  readonly author: Fingerprint;
  readonly wallTimeMs: number;
  readonly size: number;
  readonly contentHash: Hash;
  readonly type: FileMeta['type'];
  /** Where the losing version stands on disk (undefined for the winner). */
  readonly copyPath?: string;
}

export interface FolderConflict {
  readonly path: string;
  readonly winner: ConflictVersion;
  readonly losers: readonly ConflictVersion[];
}

/** A deleted file that can be brought back: its newest kept version. */
export interface DeletedFile {
  readonly path: string;
  readonly version: string;
  readonly keptAtMs: number;
  readonly size: number;
}

export type Keep = 'winner' | 'both' | Hash;

export class FolderEngine {
  readonly events: Observable<FolderEvent>;
  readonly folder: string;
  private readonly subject = new Subject<FolderEvent>();
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private readonly root: string;
  private readonly store: EngineStore;
  private readonly replica: FolderReplica;
  private readonly entryOf: EntryLookup;
  private readonly blocks: ChainedBlockSource;
  /** This node's blocks: local files and kept versions (what the sync layer serves to peers). */
  readonly localBlocks: BlockSource;
  /** Paths whose apply lacked blocks: tried again with the next run, or after a backoff. */
  private readonly retry = new Set<string>();
  private readonly retryTimer = new RetryTimer(() => this.running && void this.schedule([]), RETRY_MIN_MS, RETRY_MAX_MS);
  /**
   * Directories deleted elsewhere and kept here for what is still in them (an ignored file, a
   * file not yet scanned): tried again on a backoff of their own, since the watcher does not
   * report ignored paths and nothing else would remove such a directory once it is empty. One
   * that stays full for good does not slow the retries of paths waiting for blocks.
   */
  private readonly keptDirs = new Set<string>();
  private readonly keptDirsTimer = new RetryTimer(() => this.running && void this.schedule(this.keptDirs), RETRY_MIN_MS, RETRY_MAX_MS);
  private readonly versionsDir: Versions;
  private scanner: FolderScanner | undefined;
  /** Shared syncs for the files apply writes, where syncfs can be called (else an fsync each). */
  private groupSync: GroupSync | undefined;
  /** The worker that makes new empty files (a catch-up of empty files is mostly that). */
  private readonly emptyFiles = new EmptyFiles();
  /** Files apply wrote and recorded, with their stats, until their watch event comes (see JustWritten). */
  private readonly justWritten = new JustWritten();
  /** Paths apply is writing (renamed, not recorded yet): the scanner leaves them alone. */
  private readonly writing = new Set<string>();
  /** Copies of refused local changes: ignored by the scanner, never announced. */
  private copies!: LocalCopies;
  private ignoreRules: readonly string[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<string>();
  private queued: Promise<void> | null = null;
  /** While pending paths wait for ingests that said more follows (see ingest): its timer, and `ended` for idle(). */
  private deferral: { readonly timer: NodeJS.Timeout; readonly ended: Promise<void>; readonly end: () => void } | undefined;
  /**
   * Entries added since the last apply started (received or appended here), by hash: the
   * apply that follows finds them without a store read each. `applying`: those of the run in
   * progress.
   */
  private recent = new Map<Hash, Entry>();
  private applying: Map<Hash, Entry> | undefined;
  /** Paths whose entries a manifest change removed, until an apply run has emptied them (see NO_VERSION). */
  private readonly emptied = new Set<string>();
  /** What the apply run in progress is doing (for APPLY_SLOW). */
  private applyStep = 'resolving heads';
  /**
   * Paths with live losers as of their last apply (seeded at start with every path that has
   * several heads): status counts conflicts from here instead of reading every path's heads.
   */
  private readonly conflicted = new Set<string>();
  private running = false;

  private constructor(private readonly opts: FolderEngineOptions) {
    this.root = path.resolve(opts.root);
    this.store = opts.store;
    this.replica = opts.replica;
    this.folder = opts.replica.folder;
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.stopper.signal]) : this.stopper.signal;
    const stored = entryLookup(opts.store);
    this.entryOf = (h) => this.recent.get(h) ?? this.applying?.get(h) ?? stored(h);
    this.versionsDir = new Versions(this.root, { clock: opts.clock, retention: opts.retention });
    // One source over both folders of the block index (the files and the kept versions): one
    // lookup per block, the same checks (no links followed, every block hashed).
    const kept = keptFolder(this.folder);
    const versionsRoot = path.join(this.root, ...VERSIONS_REL.split('/'));
    this.localBlocks = new LocalBlockSource(opts.store, (f) => (f === this.folder ? this.root : f === kept ? versionsRoot : undefined));
    this.blocks = new ChainedBlockSource(this.localBlocks);
    if (opts.blocks) this.blocks.add(opts.blocks);
    this.events = this.subject.asObservable();
  }

  /** Scans the folder (local edits made while stopped become entries), then applies the whole state; watches from then on. */
  static async start(opts: FolderEngineOptions): Promise<FolderEngine> {
    const e = new FolderEngine(opts);
    await fsp.mkdir(e.root, { recursive: true });
    e.running = true;
    try {
      e.copies = await LocalCopies.load(e.root);
      e.groupSync = await GroupSync.probe(e.root);
      await e.startScanner();
      const all: string[] = [];
      for await (const ph of e.store.pathsWithHeads(e.folder, { signal: e.signal })) {
        all.push(ph.path);
        if (ph.heads.length > 1) e.conflicted.add(ph.path);
      }
      await e.schedule(all);
    } catch (err) {
      await e.stop();
      throw err;
    }
    return e;
  }

  /** Stops the scanner and waits for the apply in progress; no event after this. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.retryTimer.stop();
    this.keptDirsTimer.stop();
    this.endDeferral();
    this.stopper.abort();
    await this.scanner?.stop();
    await this.queue.catch(() => undefined);
    this.groupSync?.close();
    this.emptyFiles.close();
    this.subject.complete();
  }

  /** Waits until every apply queued so far has run, deferred ones too (see ingest). */
  async idle(): Promise<void> {
    await this.queue.catch(() => undefined);
    for (let d = this.deferral; d !== undefined && this.running; d = this.deferral) {
      await d.ended;
      await this.queue.catch(() => undefined);
    }
  }

  private emit(e: FolderEvent): void {
    if (!this.subject.closed) this.subject.next(e);
  }

  private async startScanner(): Promise<void> {
    this.ignoreRules = [...this.replica.manifest().manifest.ignoreRules];
    const s = this.opts.scan ?? {};
    const ignore = new IgnoreRules(this.ignoreRules);
    ignore.setLocalOnly(this.copies.paths);
    const scanner = new FolderScanner({
      root: this.root,
      folder: this.folder,
      author: this.opts.self,
      local: this.store,
      blocks: this.store,
      headsOf: (p) => this.baseOf(p),
      headsOfMany: (ps) => this.basesOf(ps),
      ignore,
      sink: (changes, signal) => this.sinkLocal(changes, signal),
      onRefused: (changes, error) => this.onRefused(changes, error),
      isWriting: (p) => this.writing.has(p),
      isUnchanged: (p, st) => this.justWritten.matches(p, st),
      clock: this.opts.clock,
      fsTraits: this.opts.fsTraits,
      rescanIntervalMs: s.rescanIntervalMs,
      quietMs: s.quietMs,
      maxWaitMs: s.maxWaitMs,
      settleMs: s.settleMs,
      signal: this.signal,
    });
    scanner.events.subscribe((e) => this.onScan(e));
    this.scanner = scanner;
    await scanner.start();
  }

  private onScan(e: ScanEvent): void {
    switch (e.type) {
      case 'scan:batch':
        // After the scanner recorded the batch: a change that made a conflict gets its copies now.
        void this.schedule(e.paths);
        break;
      case 'scan:refused':
        this.emit({ type: 'folder:refused', path: e.path, source: 'scan', code: e.reason ?? e.code, message: e.message });
        break;
      case 'scan:problem':
        this.emit({ type: 'folder:problem', path: e.path, code: e.code, message: e.message });
        break;
      case 'scan:error':
        this.emit({ type: 'folder:problem', message: `scanner: ${String((e.error as Error)?.message ?? e.error)}`, error: e.error });
        break;
    }
  }

  /** The parents a local change at `p` supersedes: its base, or the current heads for a path never seen here. */
  private async baseOf(p: string): Promise<ParentRef[]> {
    const base = await this.store.localBase(this.folder, p);
    if (base === undefined) return (await this.store.heads(this.folder, p)).map((h) => ({ hash: h.hash, lamport: h.lamport }));
    const out: ParentRef[] = [];
    for (const h of base) {
      const e = await this.store.entry(h);
      if (e) out.push({ hash: h, lamport: e.lamport });
    }
    return out;
  }

  /** baseOf for many paths in a few queries (a burst of thousands of new files asked two queries each). */
  private async basesOf(paths: readonly string[]): Promise<Map<string, ParentRef[]>> {
    const out = new Map<string, ParentRef[]>();
    const bases = await this.store.localBasesAt(this.folder, paths);
    const fresh = paths.filter((p) => !bases.has(p));
    if (this.store.headsAt !== undefined) {
      const heads = await this.store.headsAt(this.folder, fresh);
      for (const p of fresh) out.set(p, (heads.get(p) ?? []).map((h) => ({ hash: h.hash, lamport: h.lamport })));
    } else for (const p of fresh) out.set(p, await this.baseOf(p));
    const hashes = [...new Set([...bases.values()].flat())];
    const lamports = this.store.lamports !== undefined ? await this.store.lamports(hashes) : undefined;
    for (const [p, hs] of bases) {
      if (lamports === undefined) {
        out.set(p, await this.baseOf(p));
        continue;
      }
      const refs: ParentRef[] = [];
      for (const h of hs) {
        const l = lamports.get(h);
        if (l !== undefined) refs.push({ hash: h, lamport: l });
      }
      out.set(p, refs);
    }
    return out;
  }

  private async sinkLocal(changes: NewChange[], signal: AbortSignal): Promise<void> {
    const { entries } = await this.replica.appendLocal(changes, signal);
    for (const e of entries) this.remember(e.hash, e.entry);
    // Each path's file is now based on the entry that announced it (a move's source: on the move).
    await this.store.setLocalBases(
      this.folder,
      entries.flatMap((e) => pathsOf(e.entry.body).map((p) => ({ path: p, hashes: [e.hash] }))),
    );
    this.emit({ type: 'folder:changed', origin: 'local', entries: entries.length, paths: [...new Set(entries.flatMap((e) => pathsOf(e.entry.body)))] });
  }

  /**
   * A local change the manifest will never accept is not retried with every burst (it would
   * also block the peers' updates of its path): its bytes go to a local copy and the log's
   * version comes back. A path-grant refusal of several changes is split by the scanner first.
   */
  private async onRefused(changes: readonly LocalChange[], error: unknown): Promise<boolean> {
    if (!isReplicaError(error, 'WRITE_REFUSED') || error.reason === undefined || !KEPT_REASONS.has(error.reason)) return false;
    if (PATH_REASONS.has(error.reason) && changes.length > 1) return false;
    void this.schedule(await this.keepAside(changes, error.reason, error.message));
    return true;
  }

  /** Moves the user's bytes of refused local changes aside (see keepRefused); returns the paths to apply. */
  private async keepAside(changes: readonly LocalChange[], reason: string, why: string): Promise<string[]> {
    const { kept, restore } = await this.exclusive(() =>
      keepRefused(
        { root: this.root, folder: this.folder, self: this.opts.self, clock: this.opts.clock, store: this.store, copies: this.copies, winnerOf: (p) => this.winnerContent(p) },
        changes,
      ),
    );
    for (const k of kept) {
      const what = k.kind === 'delete' ? 'delete' : k.kind === 'move' ? 'move' : 'change';
      const outcome = k.copy !== undefined ? `your version is kept here only, as ${k.copy}; the folder's version is back` : k.kind === 'delete' ? "the folder's version comes back" : "it matches the folder's version";
      this.emit({ type: 'folder:refused', path: k.path, source: 'scan', code: 'WRITE_REFUSED', reason, ...(k.copy !== undefined ? { copy: k.copy } : {}), message: `${k.path}: this ${what} is not shared (${why}); ${outcome}` });
    }
    return restore;
  }

  /**
   * Entries a new manifest removed (see FeedCutReport): their paths follow the state again.
   * Our own removed changes are this disk's files, shared no more: as with any refused local
   * change, the user's bytes move to local copies first, then the folder's version comes back.
   */
  async applyCuts(cuts: readonly FeedCutReport[]): Promise<void> {
    this.checkRunning();
    const paths = new Set<string>();
    for (const c of cuts) {
      for (const p of c.paths) {
        paths.add(p);
        this.emptied.add(p);
      }
      if (c.own.length === 0) continue;
      // What is on disk at a path is its last change: one synthesized change per path, from the newest entry.
      const last = new Map<string, LocalChange>();
      for (const { entry } of c.own) {
        const b = entry.body;
        if (b.op === 'delete') last.set(b.path, { kind: 'delete', path: b.path, before: knownFile(b.path, undefined) });
        else if (b.op === 'put') last.set(b.path, { kind: 'put', path: b.path, file: scannedFile(b.path, b.meta) });
        else {
          last.set(b.from, { kind: 'delete', path: b.from, before: knownFile(b.from, b.meta) });
          last.set(b.to, { kind: 'put', path: b.to, file: scannedFile(b.to, b.meta) });
        }
      }
      for (const p of await this.keepAside([...last.values()], c.reason, `${c.detail}; an admin changed the folder's members after you wrote it`)) paths.add(p);
    }
    await this.schedule(paths);
  }

  private async winnerContent(p: string): Promise<WinnerContent> {
    const r = await this.replica.state.resolve(p, this.signal);
    if (r === undefined || !r.winner.live) return undefined;
    const meta = (await resolveWith(r, this.entryOf)).winner.meta;
    return meta === undefined ? undefined : { type: meta.type, contentHash: meta.contentHash };
  }

  /** The local copies of refused changes (folder-relative paths): shown to the user, never shared. */
  localCopies(): string[] {
    return [...this.copies.paths].sort();
  }

  /**
   * Takes what a peer sent (through the replica's checks) and queues an apply of the paths it
   * touched. Resolves once the entries are stored: the apply runs behind (`idle()` waits for
   * it), unless INGEST_AHEAD_PATHS paths already wait, when it resolves after the apply run.
   * `more`: the sender has more entries to send right after these; their apply waits for
   * them (at most APPLY_DEFER_MS), so a catch-up's ingest does not share the CPU with it.
   */
  async ingest(input: IngestInput, from?: { peer?: string; more?: boolean }): Promise<IngestResult> {
    this.checkRunning();
    const result = await this.replica.ingest(input, this.signal);
    const paths = new Set<string>();
    // Entries that waited for parents are in the result of the call that stores them.
    for (const { entry, hash } of result.entries) {
      for (const p of pathsOf(entry.body)) paths.add(p);
      this.remember(hash, entry);
    }
    for (const r of result.refusals) {
      this.emit({ type: 'folder:refused', path: '', source: 'ingest', code: r.reason, message: `${r.kind} ${r.author}${r.seq !== undefined ? ` seq ${r.seq}` : ''}: ${r.detail}` });
    }
    if (result.accepted > 0) this.emit({ type: 'folder:changed', origin: 'peer', peer: from?.peer, entries: result.accepted, paths: [...paths] });
    if (result.manifestsApplied.length > 0) await this.manifestChanged();
    if (result.cuts.length > 0) await this.applyCuts(result.cuts);
    const ahead = this.opts.ingestAheadPaths ?? INGEST_AHEAD_PATHS;
    if (from?.more === true && this.pending.size + paths.size <= ahead) {
      for (const p of paths) this.pending.add(p);
      if (this.deferral === undefined) {
        let end = (): void => undefined;
        const ended = new Promise<void>((resolve) => (end = resolve));
        const timer = setTimeout(() => void this.schedule([]), this.opts.applyDeferMs ?? APPLY_DEFER_MS);
        this.deferral = { timer, ended, end };
      }
      return result;
    }
    const applied = this.schedule(paths);
    if (this.pending.size > ahead) await applied;
    return result;
  }

  private remember(hash: Hash, entry: Entry): void {
    if (this.recent.size < (this.opts.recentEntries ?? RECENT_ENTRIES)) this.recent.set(hash, entry);
  }

  /** The entries of `hashes` that are in memory or in the store, in a few store reads. */
  private async entriesOf(hashes: readonly Hash[]): Promise<Map<Hash, Entry>> {
    const out = new Map<Hash, Entry>();
    const missing: Hash[] = [];
    for (const h of hashes) {
      const e = this.recent.get(h) ?? this.applying?.get(h);
      if (e !== undefined) out.set(h, e);
      else missing.push(h);
    }
    if (missing.length > 0 && this.store.entries !== undefined) for (const [h, r] of await this.store.entries(missing)) out.set(h, decodeEntry(r.bytes));
    return out;
  }

  /**
   * Call after the manifest moved on here (ingest does it for received versions): new
   * folder-wide ignore rules take a new scanner, whose first rescan applies them.
   */
  async manifestChanged(): Promise<void> {
    this.checkRunning();
    const rules = this.replica.manifest().manifest.ignoreRules;
    if (rules.length === this.ignoreRules.length && rules.every((r, i) => r === this.ignoreRules[i])) return;
    await this.scanner?.stop();
    await this.startScanner();
  }

  private checkRunning(): void {
    if (!this.running) throw new FolderError('FOLDER_NOT_STARTED', 'the folder engine is stopped');
    throwIfAborted(this.signal);
  }

  /** Runs `f` after every earlier apply, restore or resolution, alone. */
  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      throwIfAborted(this.signal);
      return f();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Applies these paths after what runs now; paths added before that run starts go with it. */
  private endDeferral(): void {
    const d = this.deferral;
    if (d === undefined) return;
    this.deferral = undefined;
    clearTimeout(d.timer);
    d.end();
  }

  private schedule(paths: Iterable<string>): Promise<void> {
    for (const p of paths) this.pending.add(p);
    // The run queued here (or already queued) takes every pending path, deferred ones too.
    const queued = this.queueApply();
    this.endDeferral();
    return queued;
  }

  private queueApply(): Promise<void> {
    for (const p of this.retry) this.pending.add(p);
    this.retry.clear();
    if (this.pending.size === 0) return Promise.resolve();
    this.queued ??= this.exclusive(async () => {
      this.queued = null;
      const ps = [...this.pending];
      this.pending.clear();
      await this.applyNow(ps);
    }).catch((error: unknown) => {
      if (!this.signal.aborted) this.emit({ type: 'folder:problem', message: `apply: ${String((error as Error)?.message ?? error)}`, error });
    });
    return this.queued;
  }

  /**
   * Blocks can turn up later (a peer's index catching up, a block source added), and nothing
   * else may trigger another apply: try the waiting paths again, backing off so a block that
   * nobody has costs little.
   */
  private armRetry(): void {
    if (this.running) this.retryTimer.arm();
  }


  private async applyNow(paths: readonly string[]): Promise<void> {
    this.applying = this.recent;
    this.recent = new Map();
    this.applyStep = 'resolving heads';
    const started = Date.now();
    const watchdog = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      this.emit({ type: 'folder:problem', code: 'APPLY_SLOW', message: `applying ${paths.length} path(s) has taken ${s} s so far (${this.applyStep})` });
    }, this.opts.slowApplyMs ?? 60_000);
    watchdog.unref();
    try {
      await this.applyPaths(paths);
    } finally {
      clearInterval(watchdog);
      this.applying = undefined;
    }
  }

  /**
   * A run of many paths (a start's whole folder, a burst of bursts gathered while an apply
   * ran) goes in runs of at most APPLY_RUN_PATHS: resolving 100k paths at once held every
   * resolution, entry and index row of the folder together (~1 KB a path, most of the
   * sidecar's peak). Paths go in UTF-8 order, so a directory comes before what is in it, as
   * within one run. Two things one run did by its phase order are kept across runs:
   * - deletions wait for the last runs, children before their directory (a directory deleted
   *   before its files would be kept as not empty), and after every move whose source they are
   *   (the move renames the file before it is gone);
   * - a move's source, when it is a later path holding a new version, joins the move's run (the
   *   move takes the old file before the new one is written there);
   * - a file or link that replaces a directory comes after the deletions.
   */
  private async applyPaths(paths: readonly string[]): Promise<void> {
    const most = Math.max(1, this.opts.applyRunPaths ?? APPLY_RUN_PATHS);
    if (paths.length <= most) return this.applyResolved(paths, await this.resolveRun(paths));
    const sorted = [...paths].sort(compareUtf8);
    const later = new Set(sorted);
    const deletions: string[] = [];
    const replacing: string[] = [];
    // A run's paths with others of the run below them: where a file or link replaces a
    // directory, it waits for the deletions that empty the directory.
    const above = new Set<string>();
    for (const p of sorted) for (let k = p.lastIndexOf('/'); k > 0 && !above.has(p.slice(0, k)); k = p.lastIndexOf('/', k - 1)) above.add(p.slice(0, k));
    for (let i = 0; i < sorted.length; i += most) {
      throwIfAborted(this.signal);
      const run = sorted.slice(i, i + most).filter((p) => later.has(p));
      for (const p of run) later.delete(p);
      const first = await this.resolveRun(run);
      const sources = first.resolved.flatMap((r) => (r.winner.moveFrom !== undefined && later.has(r.winner.moveFrom) ? [r.winner.moveFrom] : []));
      for (const p of sources) later.delete(p);
      const { resolved, refused } = sources.length === 0 ? first : concatResolved(first, await this.resolveRun(sources));
      const waits = new Set<string>();
      for (const r of resolved) {
        const meta = r.winner.meta;
        if (meta === undefined) deletions.push(r.path);
        else if (meta.type === 'dir' || !above.has(r.path)) continue;
        else replacing.push(r.path);
        waits.add(r.path);
      }
      await this.applyResolved(
        [...run, ...sources].filter((p) => !waits.has(p)),
        { resolved: resolved.filter((r) => !waits.has(r.path)), refused },
      );
    }
    deletions.sort((a, b) => compareUtf8(b, a));
    for (const list of [deletions, replacing]) {
      for (let i = 0; i < list.length; i += most) {
        throwIfAborted(this.signal);
        const run = list.slice(i, i + most);
        await this.applyResolved(run, await this.resolveRun(run));
      }
    }
  }

  private resolveRun(paths: readonly string[]): Promise<ResolvedPaths> {
    return resolvePaths(this.store, this.folder, paths, this.entryOf, this.signal, this.emptied, (hs) => this.entriesOf(hs));
  }

  private async applyResolved(paths: readonly string[], { resolved, refused }: ResolvedPaths): Promise<void> {
    for (const { path: p, error } of refused) this.emit({ type: 'folder:refused', path: p, source: 'apply', code: error.code, message: error.message });
    this.noteConflicts(paths, resolved, refused);
    const winners = new Map<string, ResolvedVersion>(resolved.map((r) => [r.path, r.winner]));
    if (resolved.length === 0) return;
    let report: ApplyReport;
    this.applyStep = 'writing files and their index rows';
    try {
      report = await applyState({
        root: this.root,
        folder: this.folder,
        state: resolved,
        local: this.recordingIndex(winners),
        blockIndex: this.keepingBlockIndex,
        blocks: this.blocks,
        clock: this.opts.clock,
        retention: this.opts.retention,
        fsTraits: this.opts.fsTraits,
        writing: this.writing,
        groupSync: this.groupSync,
        emptyFiles: this.emptyFiles,
        onDirMade: (rel) => this.scanner?.watchDir(rel),
        signal: this.signal,
      });
    } catch (e) {
      // A run that failed as a whole (its index rows or a shared sync could not be written)
      // leaves its paths waiting, not forgotten: nothing else would apply them again.
      if (!this.signal.aborted) {
        for (const r of resolved) this.retry.add(r.path);
        this.armRetry();
      }
      throw e;
    }
    this.applyStep = 'removing stale conflict copies and pruned versions';
    await this.removeStaleCopies(resolved);
    for (const v of report.pruned) await this.store.removeBlockLocations(keptFolder(this.folder), v);
    // Refusals that a later try can turn into a write: blocks that may turn up, and I/O errors
    // (a full disk, a failed sync). Left alone, a path refused with APPLY_IO stayed missing
    // while nothing counted it as waiting.
    const missing = new Set(report.refused.filter((r) => RETRIED_REFUSALS.has(r.code)).map((r) => r.path));
    const copyOf = new Map<string, string>();
    const waiting: string[] = [];
    for (const res of resolved) {
      const copies = conflictCopiesOf(res);
      for (const c of copies) copyOf.set(c.path, res.path);
      if (missing.has(res.path) || copies.some((c) => missing.has(c.path))) waiting.push(res.path);
    }
    for (const p of waiting) this.retry.add(p);
    if (this.retry.size > 0) this.armRetry();
    else this.retryTimer.reset();
    for (const r of resolved) this.keptDirs.delete(r.path);
    for (const p of report.keptNotEmpty) this.keptDirs.add(p);
    if (this.keptDirs.size === 0) this.keptDirsTimer.reset();
    else if (this.running) this.keptDirsTimer.arm();
    for (const res of resolved) if (!this.retry.has(res.path)) this.emptied.delete(res.path);
    for (const c of report.conflicts) this.emit({ type: 'folder:conflict', path: c.path, kind: 'local-changed' });
    for (const r of report.refused) {
      const of = copyOf.get(r.path);
      this.emit({ type: 'folder:refused', path: r.path, source: 'apply', code: r.code, message: r.message, ...(of !== undefined ? { of } : {}) });
    }
    for (const res of resolved) if (res.losers.length > 0) this.emit({ type: 'folder:conflict', path: res.path, kind: 'heads' });
    this.emit({ type: 'folder:applied', paths: resolved.map((r) => r.path), waiting, report });
  }

  /** Keeps `conflicted` in line with this run's resolutions (a path without heads has no conflict; a refused one stays as it was). */
  private noteConflicts(paths: readonly string[], resolved: readonly ResolvedPath[], refused: ReadonlyArray<{ path: string }>): void {
    const kept = new Set(refused.map((r) => r.path));
    for (const p of paths) if (!kept.has(p)) this.conflicted.delete(p);
    for (const r of resolved) if (r.losers.length > 0) this.conflicted.add(r.path);
  }

  /** How many paths have several live heads (a winner and conflict copies), as of their last apply. */
  conflictCount(): number {
    return this.conflicted.size;
  }

  /**
   * The local index as apply writes it, recording each path's base in the same step: a row
   * that shows a path's winner means the file is now based on that winner; a row removed from
   * a path whose winner is a deletion (or a move away) is based on that.
   */
  private recordingIndex(winners: ReadonlyMap<string, ResolvedVersion>): LocalIndexStore {
    const { store, folder } = this;
    return {
      localFile: (f, p) => store.localFile(f, p),
      localFilesAt: (f, ps) => store.localFilesAt(f, ps),
      localFiles: (f, o) => store.localFiles(f, o),
      upsertLocalFiles: async (rows: readonly LocalFileRecord[]) => {
        await store.upsertLocalFiles(rows);
        this.justWritten.add(rows);
        const bases = rows.flatMap((r) => {
          const w = winners.get(r.path);
          return w?.meta !== undefined && w.meta.type === r.type && (r.type === 'dir' || w.meta.contentHash === r.contentHash) ? [{ path: r.path, hashes: [w.hash] }] : [];
        });
        await store.setLocalBases(folder, bases);
      },
      deleteLocalFiles: async (f: string, ps: readonly string[]) => {
        const n = await store.deleteLocalFiles(f, ps);
        const bases = ps.flatMap((p) => {
          const w = winners.get(p);
          return w !== undefined && w.meta === undefined && w.hash !== NO_VERSION ? [{ path: p, hashes: [w.hash] }] : [];
        });
        await store.setLocalBases(folder, bases);
        // A path with no version left has no base either: a new file there supersedes nothing.
        const unbased = ps.filter((p) => winners.get(p)?.hash === NO_VERSION);
        if (unbased.length > 0) await store.deleteLocalBases(folder, unbased);
        return n;
      },
    };
  }

  /**
   * The block index as apply uses it: when apply forgets a file's blocks, it has just kept that
   * file as a version (or the file is gone), so the blocks are filed under the newest version.
   */
  private readonly keepingBlockIndex: Pick<BlockIndex, 'addBlockLocations' | 'removeBlockLocations'> = {
    addBlockLocations: (locs) => this.store.addBlockLocations(locs),
    removeBlockLocations: async (folder, p) => {
      const locs = await this.store.blockLocationsOf(folder, p);
      if (locs.length > 0) {
        const [newest] = await this.versionsDir.listVersions(p).catch(() => []);
        // A guess checked on every read: a wrong one costs a failed read, never wrong bytes.
        if (newest) await this.store.addBlockLocations(locs.map((l) => ({ ...l, folder: keptFolder(folder), path: newest.version })));
      }
      return this.store.removeBlockLocations(folder, p);
    },
  };

  /**
   * After an apply, the copies beside each path are exactly those of its current losers:
   * every other copy apply wrote there goes to versions, whatever superseded its version (the
   * winner, a later loser, a deletion, a chain of them) and however many entries came at once.
   * A path that has only ever had one entry cannot have had a copy: its directory is not read.
   */
  private async removeStaleCopies(resolved: readonly ResolvedPath[]): Promise<void> {
    const ctx = {
      root: this.root,
      folder: this.folder,
      local: this.store,
      blockIndex: this.keepingBlockIndex,
      blocks: this.blocks,
      versions: this.versionsDir,
      signal: this.signal,
    };
    const listings = new Map<string, Promise<string[]>>();
    const checks = {
      list: (dirRel: string): Promise<string[]> => {
        let l = listings.get(dirRel);
        if (l === undefined) {
          // Only names with the copy tag: a run of many paths in a large directory scans it once.
          l = fsp.readdir(path.join(this.root, ...dirRel.split('/').filter((s) => s !== ''))).then(
            (names) => names.filter((n) => n.includes('.sync-conflict-')),
            () => [],
          );
          listings.set(dirRel, l);
        }
        return l;
      },
      isLogPath: async (rel: string) => (await this.store.heads(this.folder, rel)).length > 0,
      isOwned: (rel: string) => this.copies.has(rel),
    };
    for (const res of resolved) {
      if (res.losers.length === 0 && res.heads === 1 && res.winner.parents?.length === 0) continue;
      const stale = await staleCopies(ctx, res, checks);
      if (stale.length === 0) continue;
      const { removed, kept } = await removeCopies(ctx, stale);
      if (removed.length > 0) this.opts.log?.(`stale copies of ${res.path} kept as versions`, removed);
      for (const k of kept) this.emit({ type: 'folder:problem', path: k, code: 'COPY_EDITED', message: `${k} was edited after it was written; left in place` });
    }
  }

  /** Kept versions of a path, newest first. */
  versions(p: string): Promise<KeptVersion[]> {
    return this.versionsDir.listVersions(p);
  }

  /**
   * Puts a kept version back at `p` and announces it as a new entry superseding the path's
   * current heads, so every member gets it back.
   */
  restore(p: string, version: string): Promise<Hash> {
    this.checkRunning();
    return this.exclusive(async () => {
      const restored = await this.versionsDir.restoreVersion(p, version, this.signal);
      const st = await fsp.lstat(restored.absPath);
      const meta = restored.meta;
      if (meta.type === 'dir') throw new FolderError('FOLDER_NOTHING_TO_RESTORE', `${version} is a directory`);
      // The row first: the scanner then sees its record match the disk and announces nothing.
      await this.store.upsertLocalFiles([
        { folder: this.folder, path: p, size: meta.type === 'file' ? st.size : 0, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, mode: st.mode & 0o7777, contentHash: meta.contentHash, type: meta.type },
      ]);
      await this.store.removeBlockLocations(this.folder, p);
      await this.store.addBlockLocations(locationsOf(this.folder, p, meta));
      const parents = (await this.store.heads(this.folder, p)).map((h) => ({ hash: h.hash, lamport: h.lamport }));
      return this.appendOne(p, meta, parents);
    }).then(async (hash) => {
      // The restore superseded every head: conflict copies of the path are stale now.
      await this.schedule([p]);
      return hash;
    });
  }

  private async appendOne(p: string, meta: FileMeta, parents: readonly ParentRef[]): Promise<Hash> {
    const change: NewChange = { folder: this.folder, author: this.opts.self, wallTimeMs: this.opts.clock(), body: { op: 'put', path: p, meta }, parents };
    const { entries } = await this.replica.appendLocal([change], this.signal);
    const hash = entries[0].hash;
    await this.store.setLocalBases(this.folder, [{ path: p, hashes: [hash] }]);
    this.emit({ type: 'folder:changed', origin: 'local', entries: 1, paths: [p] });
    return hash;
  }

  /** Files deleted from the folder whose bytes are still kept, newest version of each. */
  async deleted(): Promise<DeletedFile[]> {
    const base = path.join(this.root, ...VERSIONS_REL.split('/'));
    const newest = new Map<string, DeletedFile>();
    const walk = async (dirAbs: string, dirRel: string): Promise<void> => {
      let ents;
      try {
        ents = await fsp.readdir(dirAbs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const d of ents) {
        const rel = dirRel ? `${dirRel}/${d.name}` : d.name;
        if (d.isDirectory()) {
          await walk(path.join(dirAbs, d.name), rel);
          continue;
        }
        const parsed = parseVersionName(rel);
        if (!parsed) continue;
        const had = newest.get(parsed.path);
        if (had && had.keptAtMs >= parsed.keptAtMs) continue;
        const st = await fsp.lstat(path.join(dirAbs, d.name));
        newest.set(parsed.path, { path: parsed.path, version: rel, keptAtMs: parsed.keptAtMs, size: st.size });
      }
    };
    await walk(base, '');
    const out: DeletedFile[] = [];
    for (const d of newest.values()) {
      const r = await this.replica.state.resolve(d.path, this.signal);
      // Deleted: the log says so (no live head), and nothing stands there on disk.
      if (r !== undefined && r.winner.live) continue;
      if ((await fsp.lstat(path.join(this.root, ...d.path.split('/'))).catch(() => undefined)) !== undefined) continue;
      out.push(d);
    }
    return out.sort((a, b) => b.keptAtMs - a.keptAtMs);
  }

  /** Paths with several live heads: the winner at the path and the losers as copies. */
  async conflicts(): Promise<FolderConflict[]> {
    const out: FolderConflict[] = [];
    for await (const r of this.replica.state.conflicts(this.signal)) {
      if (r.losers.length === 0) continue;
      const res = await resolveWith(r, this.entryOf);
      // The names apply writes: a directory loser has none (nothing to copy), two losers that
      // would share a name are told apart by their hashes.
      const copies = new Map(conflictCopiesOf(res).map((c) => [c.loser.hash, c.path]));
      const version = (v: ResolvedVersion): ConflictVersion | undefined =>
        v.meta === undefined
          ? undefined
          : { hash: v.hash, author: v.author, wallTimeMs: v.wallTimeMs, size: v.meta.size, contentHash: v.meta.contentHash, type: v.meta.type, copyPath: copies.get(v.hash) };
      const winner = version(res.winner);
      if (winner === undefined) continue;
      out.push({ path: r.path, winner, losers: res.losers.map(version).filter((v): v is ConflictVersion => v !== undefined) });
    }
    return out;
  }

  /**
   * Resolves a conflict with an entry superseding every head of the path:
   * - `winner` or a loser's hash: a put of that version;
   * - `both`: each loser becomes a path of its own under its conflict-copy name, and the winner
   *   supersedes the heads.
   * Applies it (the stale copies go to versions); returns the entry hashes appended.
   */
  async resolve(p: string, how: { keep: Keep }): Promise<Hash[]> {
    this.checkRunning();
    const r = await this.replica.state.resolve(p, this.signal);
    if (r === undefined || r.losers.length === 0) throw new FolderError('FOLDER_NO_CONFLICT', `${p} has no conflict`);
    const res = await resolveWith(r, this.entryOf);
    const parents = r.heads.map((h) => ({ hash: h.hash, lamport: h.lamport }));
    const keepOne = how.keep === 'both' || how.keep === 'winner' ? res.winner : [res.winner, ...res.losers].find((v) => v.hash === how.keep);
    if (keepOne?.meta === undefined) throw new FolderError('FOLDER_UNKNOWN_VERSION', `${String(how.keep)} is not a live head of ${p}`);
    const changes: NewChange[] = [];
    const wallTimeMs = this.opts.clock();
    if (how.keep === 'both') {
      // Each file or link loser becomes a path of its own under the name its copy has here.
      for (const { path: copy, meta } of conflictCopiesOf(res)) {
        const copyParents = (await this.store.heads(this.folder, copy)).map((h) => ({ hash: h.hash, lamport: h.lamport }));
        changes.push({ folder: this.folder, author: this.opts.self, wallTimeMs, body: { op: 'put', path: copy, meta }, parents: copyParents });
      }
    }
    changes.push({ folder: this.folder, author: this.opts.self, wallTimeMs, body: { op: 'put', path: p, meta: keepOne.meta }, parents });
    const { entries } = await this.replica.appendLocal(changes, this.signal);
    this.emit({ type: 'folder:changed', origin: 'local', entries: entries.length, paths: changes.map((c) => pathsOf(c.body)[0]) });
    await this.schedule(changes.map((c) => pathsOf(c.body)[0]));
    return entries.map((e) => e.hash);
  }
}

function locationsOf(folder: string, p: string, meta: FileMeta): BlockLocation[] {
  const out: BlockLocation[] = [];
  let offset = 0;
  for (const b of meta.blocks) {
    out.push({ hash: b.hash, size: b.size, folder, path: p, offset });
    offset += b.size;
  }
  return out;
}

/** A local change's view of a file an entry announced (inode unknown: only the kept copy's blocks are used). */
function scannedFile(p: string, meta: FileMeta): ScannedFile {
  return { path: p, type: meta.type, size: meta.size, mode: meta.mode, mtimeMs: meta.mtimeMs, inode: 0, contentHash: meta.contentHash, blocks: meta.blocks, ...(meta.linkTarget !== undefined ? { linkTarget: meta.linkTarget } : {}) };
}

function knownFile(p: string, meta: FileMeta | undefined): KnownFile {
  return { path: p, type: meta?.type ?? 'file', size: meta?.size ?? 0, mtimeMs: meta?.mtimeMs ?? 0, inode: 0, mode: meta?.mode ?? 0, contentHash: meta?.contentHash ?? null };
}

function concatResolved(a: ResolvedPaths, b: ResolvedPaths): ResolvedPaths {
  return { resolved: [...a.resolved, ...b.resolved], refused: [...a.refused, ...b.refused] };
}
