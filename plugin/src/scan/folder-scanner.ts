/**
 * One folder's scanner: a full rescan at start and on a slow interval, a watcher in between,
 * and for each burst one batch of log changes handed to the sink (so the replica signs one
 * checkpoint per batch). The local index is updated only after the sink accepted a batch:
 * a change the sink refused stays a local change, is reported, and is tried again with the
 * next burst, unless the owner's `onRefused` takes it. A refused batch is split to find the
 * changes refused (see `send`).
 *
 * Rescans and bursts never overlap: they run one after the other, and events that arrive
 * meanwhile wait for the next burst.
 */
import { createHash } from 'node:crypto';
import { lstatSync, promises as fsp, type Dirent, type Stats } from 'node:fs';
import * as path from 'node:path';
import { Subject, type Observable } from 'rxjs';
import { isUnder, type Fingerprint, type FolderId, type NewChange, type ParentRef } from '../log';
import type { BlockIndex, BlockLocation, LocalFileRecord, LocalIndexStore } from '../store';
import { detectChanges, pathsOfChange, statUnchanged, toNewChanges, type KnownFile, type LocalChange, type Observation } from './changes';
import { isScanError, ScanError, throwIfAborted } from './errors';
import { hashFileAuto, type HashFileFn } from './hash-file';
import { KINIGNORE_FILE, type IgnoreRules } from './ignore';
import { probeFilesystem, type FsTraits } from './local-names';
import { EMPTY_SHA256, type LocalFileRecord as WalkRecord, type ScannedFile, type ScanProblemCode } from './types';
import { walkFolder } from './walk';
import { mapLimit } from './map-limit';
import { DEFAULT_MAX_BURST, FolderWatcher } from './watcher';

export type ScanEventProblemCode = ScanProblemCode | 'UNANNOUNCEABLE_PATH';

export type ScanEvent =
  /** The sink accepted a batch of `count` log changes touching `paths`, and the index has it. */
  | { readonly type: 'scan:batch'; readonly origin: 'rescan' | 'watch'; readonly count: number; readonly paths: readonly string[] }
  /** The sink refused the batch holding this path; it stays a local change and is tried again. */
  | { readonly type: 'scan:refused'; readonly path: string; readonly code?: string; readonly reason?: string; readonly message: string }
  /** A path that cannot be shared as it is (a name the log cannot hold, unreadable, ...). */
  | { readonly type: 'scan:problem'; readonly path: string; readonly code: ScanEventProblemCode; readonly message: string }
  | { readonly type: 'scan:progress'; readonly files: number; readonly bytes: number }
  /** A burst was looked at: `examined` paths (relative), `changes` log changes made of them. */
  | { readonly type: 'scan:burst'; readonly examined: readonly string[]; readonly changes: number }
  | { readonly type: 'scan:rescan'; readonly phase: 'start' | 'done'; readonly files: number; readonly changes: number }
  /** Something went wrong outside any one path (watch limit, store failure); scanning goes on. */
  | { readonly type: 'scan:error'; readonly error: unknown };

export interface FolderScannerOptions {
  readonly root: string;
  readonly folder: FolderId;
  /** This node's fingerprint: the author of every change it announces. */
  readonly author: Fingerprint;
  readonly local: Pick<LocalIndexStore, 'localFile' | 'localFiles' | 'upsertLocalFiles' | 'deleteLocalFiles'> & Partial<Pick<LocalIndexStore, 'localFilesAt'>>;
  readonly blocks: Pick<BlockIndex, 'addBlockLocations' | 'removeBlockLocations'>;
  /** The current heads of a path (e.g. `store.heads(folder, path)`): what a change there supersedes. */
  readonly headsOf: (path: string) => Promise<readonly ParentRef[]>;
  /** The same for many paths at once (a few queries instead of a few per path); optional. */
  readonly headsOfMany?: (paths: readonly string[]) => Promise<ReadonlyMap<string, readonly ParentRef[]>>;
  readonly ignore: IgnoreRules;
  /** Takes one batch (e.g. `replica.appendLocal`); throwing refuses the whole batch. */
  readonly sink: (changes: NewChange[], signal: AbortSignal) => Promise<void>;
  /**
   * Offered a refused batch before it is split or retried: resolves true when the owner took
   * the changes out of the folder's flow (a reader's edit kept as a local copy, say); the
   * scanner then neither records nor retries them. False: split, or retry with the next burst.
   */
  readonly onRefused?: (changes: readonly LocalChange[], error: unknown, signal: AbortSignal) => Promise<boolean>;
  /**
   * True for a path the owner's apply is writing right now (renamed, not recorded yet): not a
   * local edit. A burst looks at it again later; a rescan leaves it to the apply's record.
   */
  readonly isWriting?: (path: string) => boolean;
  /** A file the owner wrote and recorded with exactly this lstat: no burst needs to look at it (see FolderWatcherOptions). */
  readonly isUnchanged?: (path: string, st: Stats) => boolean;
  /** Wall clock for the entries' display time (default Date.now). */
  readonly clock?: () => number;
  /** Full rescan interval (default 10 min; 0 turns it off). */
  readonly rescanIntervalMs?: number;
  readonly quietMs?: number;
  readonly maxWaitMs?: number;
  readonly settleMs?: number;
  /** The filesystem's name rules (default: probed in `.kinfolder/tmp` at start). */
  readonly fsTraits?: FsTraits;
  readonly hashFile?: HashFileFn;
  /** Most paths in one watch burst (default DEFAULT_MAX_BURST; see addNewSubtrees). */
  readonly maxBurst?: number;
  /** Most log changes per sink call in a rescan (default 4,096); a watch burst is one call. */
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_RESCAN_INTERVAL_MS = 10 * 60 * 1000;
/**
 * As many as a watch burst (DEFAULT_MAX_BURST) and an apply run: a batch's observations,
 * changes, entries and signatures are alive together, and 10,000 files of 4 KiB took 35 MB of
 * heap at once in a first scan (a third of a sidecar's 200 MB budget).
 */
const DEFAULT_MAX_BATCH = 4096;
const PROGRESS_EVERY_MS = 250;
const UNREADABLE = Symbol('unreadable');

export class FolderScanner {
  readonly events: Observable<ScanEvent>;
  private readonly subject = new Subject<ScanEvent>();
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private readonly root: string;
  private readonly clock: () => number;
  private readonly hash: HashFileFn;
  private traits: FsTraits | undefined;
  private watcher: FolderWatcher | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private rescanTimer: NodeJS.Timeout | undefined;
  /** Paths whose changes the sink refused: looked at again with the next burst. */
  private readonly retry = new Set<string>();
  private rescans = 0;

  constructor(private readonly options: FolderScannerOptions) {
    this.root = path.resolve(options.root);
    this.clock = options.clock ?? Date.now;
    this.hash = options.hashFile ?? hashFileAuto;
    this.signal = options.signal ? AbortSignal.any([options.signal, this.stopper.signal]) : this.stopper.signal;
    this.events = this.subject.asObservable();
  }

  /** Watches, then rescans the whole folder; resolves when the first rescan is done. */
  async start(): Promise<void> {
    throwIfAborted(this.signal);
    this.traits = this.options.fsTraits ?? (await probeFilesystem(this.root, { signal: this.signal }));
    // The root's rules before the watches are set, so none goes into what they ignore.
    await this.reloadKinignore('', true);
    this.watcher = new FolderWatcher({
      root: this.root,
      isIgnored: (rel, isDir) => this.options.ignore.isIgnored(rel, isDir),
      isUnchanged: this.options.isUnchanged,
      onBurst: (burst) => this.exclusive(() => this.burst(burst)),
      onError: (error) => this.emit({ type: 'scan:error', error }),
      quietMs: this.options.quietMs,
      maxWaitMs: this.options.maxWaitMs,
      settleMs: this.options.settleMs,
      maxBurst: this.options.maxBurst,
      signal: this.signal,
    });
    await this.watcher.start();
    await this.rescan();
  }

  /**
   * Watches a directory the owner made (apply, before it writes files into it), so that
   * nothing written there escapes the watcher while the event that made it waits for a burst.
   */
  watchDir(relPath: string): void {
    this.watcher?.watchDir(relPath);
  }

  /** A full rescan, after whatever runs now. */
  rescan(): Promise<void> {
    return this.exclusive(() => this.fullRescan()).finally(() => this.scheduleRescan());
  }

  /** Stops watching and waits for the burst or rescan in progress; no event after this. */
  async stop(): Promise<void> {
    this.stopper.abort();
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = undefined;
    await this.watcher?.stop();
    await this.chain.catch(() => undefined);
    this.subject.complete();
  }

  private emit(e: ScanEvent): void {
    if (!this.subject.closed) this.subject.next(e);
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      throwIfAborted(this.signal);
      return f();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private scheduleRescan(): void {
    const every = this.options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS;
    if (!(every > 0) || !Number.isFinite(every) || this.signal.aborted) return;
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = undefined;
      this.rescan().catch((error) => {
        if (!this.signal.aborted) this.emit({ type: 'scan:error', error });
      });
    }, every);
    this.rescanTimer.unref();
  }

  private async fullRescan(): Promise<void> {
    this.emit({ type: 'scan:rescan', phase: 'start', files: 0, changes: 0 });
    // Watches in line with the disk and the rules first (the first rescan follows the watcher's start).
    if (this.rescans++ > 0) await this.watcher?.refresh();
    const known = new Map<string, KnownFile>();
    for await (const r of this.options.local.localFiles(this.options.folder, { signal: this.signal })) known.set(r.path, knownOf(r));
    // Only what may be a change is kept for detectChanges; a file its row vouches for is
    // only marked seen (a restart's rescan of 100k unchanged files held 100k observations).
    const observed = new Map<string, Observation>();
    const seen = new Set<string>();
    // With no row at all nothing can be gone, so nothing can pair as a move: what the walk
    // finds goes to the sink a batch at a time, while it walks (a first scan of 100k files
    // held every file, change and entry of the folder at once).
    const streaming = known.size === 0;
    const maxBatch = this.options.maxBatch ?? DEFAULT_MAX_BATCH;
    let changes = 0;
    // Everything is looked at: refused changes show up again by themselves.
    this.retry.clear();
    const problems: string[] = [];
    let files = 0;
    let bytes = 0;
    let lastProgress = performance.now();
    const walk = walkFolder(this.root, {
      ignore: this.options.ignore,
      known: (p) => walkRecord(known.get(p)),
      signal: this.signal,
      hashFile: this.hash,
      fsTraits: this.traits,
      onProblem: (p) => {
        problems.push(p.path);
        this.emit({ type: 'scan:problem', path: p.path, code: p.code, message: p.message });
      },
    });
    const writing = this.options.isWriting;
    for await (const f of walk) {
      if (writing?.(f.path)) continue;
      const k = known.get(f.path);
      if (k !== undefined && statUnchanged(k, f)) seen.add(f.path);
      else observed.set(f.path, f);
      if (streaming && observed.size >= maxBatch) {
        changes += await this.commit(() => undefined, observed, 'rescan');
        observed.clear();
      }
      files++;
      bytes += f.size;
      if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = performance.now();
        this.emit({ type: 'scan:progress', files, bytes });
      }
    }
    this.emit({ type: 'scan:progress', files, bytes });
    const forget: string[] = [];
    for (const k of known.values()) {
      if (seen.has(k.path) || observed.has(k.path) || writing?.(k.path)) continue;
      // Unreadable is not gone: keep what we had until the disk says otherwise.
      if (problems.some((p) => isUnder(k.path, p))) continue;
      // Ignored since it was recorded: stop tracking it, but do not delete it for everyone.
      if (this.options.ignore.isIgnored(k.path, k.type === 'dir')) forget.push(k.path);
      else observed.set(k.path, 'gone');
    }
    changes += await this.commit((p) => known.get(p), observed, 'rescan');
    await this.options.local.deleteLocalFiles(this.options.folder, forget);
    this.emit({ type: 'scan:rescan', phase: 'done', files, changes });
  }

  private async burst(stats: ReadonlyMap<string, Stats | undefined>): Promise<void> {
    const paths = new Map(stats);
    const retry = [...this.retry];
    this.retry.clear();
    for (const p of retry) {
      if (paths.has(p)) continue;
      const st = await this.lstat(p);
      if (st === UNREADABLE) this.retry.add(p);
      else paths.set(p, st);
    }
    const traits = this.traits!;
    await this.addNewSubtrees(paths);
    const cache = new Map<string, KnownFile | undefined>();
    const known = async (p: string): Promise<KnownFile | undefined> => {
      if (!cache.has(p)) {
        const r = await this.options.local.localFile(this.options.folder, p);
        cache.set(p, r && knownOf(r));
      }
      return cache.get(p);
    };
    // Paths the owner's apply is renaming into place: looked at once it has recorded them.
    const writing = this.options.isWriting;
    if (writing !== undefined) {
      for (const p of paths.keys()) {
        if (!writing(p.normalize('NFC'))) continue;
        paths.delete(p);
        this.watcher?.mark([p]);
      }
    }
    // The rows of a burst in a few queries (one per path cost more than the lstat and the compare).
    const prefetch = async (ps: Iterable<string>): Promise<void> => {
      const want = [...new Set(ps)].filter((p) => !cache.has(p));
      const { localFilesAt } = this.options.local;
      if (localFilesAt === undefined) {
        await mapLimit(want, 64, known);
        return;
      }
      const rows = await localFilesAt.call(this.options.local, this.options.folder, want);
      for (const p of want) {
        const r = rows.get(p);
        cache.set(p, r && knownOf(r));
      }
    };
    await prefetch([...paths.keys()].map((p) => p.normalize('NFC')));
    const observed = new Map<string, Observation>();
    const goneDirs: string[] = [];
    const examined: string[] = [];
    let rulesChanged = false;
    const listings = new Map<string, Set<string>>();

    for (const [diskRel, st] of paths) {
      throwIfAborted(this.signal);
      let rel = diskRel;
      if (rel.includes('\uFFFD')) {
        this.problem(rel, 'INVALID_NAME_ENCODING', `"${rel}" is not valid UTF-8; rename it to share it`);
        continue;
      }
      if (rel !== rel.normalize('NFC')) {
        if (!traits.normalizationInsensitive) {
          this.problem(rel, 'NON_NFC_NAME', `"${rel}" is not in Unicode NFC form; rename it to share it`);
          continue;
        }
        rel = rel.normalize('NFC');
      }
      if (this.options.ignore.isIgnored(rel, st?.isDirectory() ?? false)) continue;
      examined.push(rel);
      if (path.posix.basename(rel) === KINIGNORE_FILE) {
        await this.reloadKinignore(path.posix.dirname(rel).replace(/^\.$/, ''), false);
        rulesChanged = true;
      }
      let now = st;
      // Where `a` and `A` (or two Unicode spellings) reach one file, lstat cannot tell which
      // spelling is on disk: only the directory listing can. The other spelling is gone.
      if (now && (traits.caseInsensitive || traits.normalizationInsensitive) && !(await this.spelledExactly(diskRel, listings))) now = undefined;
      if (now === undefined) {
        const k = await known(rel);
        if (k) {
          observed.set(rel, 'gone');
          if (k.type === 'dir') goneDirs.push(rel);
        }
        continue;
      }
      const scanned = await this.observe(rel, diskRel, now, known);
      if (scanned === 'unchanged') continue;
      if (scanned !== undefined) observed.set(rel, scanned);
      // A directory replaced by a file or link took its subtree with it.
      if (!now.isDirectory() && (await known(rel))?.type === 'dir') goneDirs.push(rel);
    }

    if (goneDirs.length > 0) {
      // A directory that went away takes its subtree with it, whatever events came for it.
      for await (const r of this.options.local.localFiles(this.options.folder, { signal: this.signal })) {
        if (observed.has(r.path) || paths.has(r.path)) continue;
        if (goneDirs.some((d) => r.path !== d && isUnder(r.path, d))) {
          cache.set(r.path, knownOf(r));
          observed.set(r.path, 'gone');
        }
      }
    }
    // Apply renames a file into place and records it right after. A burst that came in between
    // saw an unrecorded file; by now (hashing took longer than apply's gap) the row is there.
    // Change detection then compares with the fresh row.
    const appeared = [...observed].filter(([, o]) => o !== 'gone').map(([p]) => p);
    for (const p of appeared) cache.delete(p);
    await prefetch(observed.keys());
    const changes = await this.commit((p) => cache.get(p), observed, 'watch');
    this.emit({ type: 'scan:burst', examined, changes });
    if (rulesChanged) {
      // New rules may bring paths back (or hide them): only a walk finds those.
      void this.rescan().catch((error) => {
        if (!this.signal.aborted) this.emit({ type: 'scan:error', error });
      });
    }
  }

  /**
   * A directory that appeared (moved in, unpacked) brings its subtree in the same burst, so
   * that its files pair with the ones that left as moves. The watcher marks them only once it
   * has read the new directory, for a later burst.
   */
  private async addNewSubtrees(paths: Map<string, Stats | undefined>): Promise<void> {
    // With nothing gone in the burst nothing can pair as a move, and the watcher has marked
    // the new directories' entries for the bursts after this one: past maxBurst paths they
    // wait for those. Unbounded, a burst of new directories brought in every file below them
    // (100k files written into 1,000 new directories made bursts of 24k paths, not 4k).
    const most = [...paths.values()].includes(undefined) ? Infinity : (this.options.maxBurst ?? DEFAULT_MAX_BURST);
    const fresh: string[] = [];
    for (const [rel, st] of paths) {
      if (!st?.isDirectory()) continue;
      const k = await this.options.local.localFile(this.options.folder, rel.normalize('NFC'));
      if (k?.type !== 'dir') fresh.push(rel);
    }
    while (fresh.length > 0 && paths.size < most) {
      throwIfAborted(this.signal);
      const dir = fresh.pop()!;
      let names: Dirent[];
      try {
        names = await fsp.readdir(path.join(this.root, dir), { withFileTypes: true });
      } catch {
        continue; // gone again, or unreadable: the path itself says which
      }
      let n = 0;
      for (const d of names) {
        if (paths.size >= most) break;
        const rel = `${dir}/${d.name}`;
        if (paths.has(rel) || this.options.ignore.isIgnored(rel.normalize('NFC'), d.isDirectory())) continue;
        // Blocking stats, a slice at a time: one await per file of a large new tree cost more than the stat.
        if (++n % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const st = this.lstatNow(rel);
        if (st === UNREADABLE) continue;
        paths.set(rel, st);
        if (st?.isDirectory()) fresh.push(rel);
      }
    }
  }

  /** What is at a present path, or 'unchanged' when the record vouches for it, or undefined (reported or retried). */
  private async observe(
    rel: string,
    diskRel: string,
    st: Stats,
    known: (p: string) => Promise<KnownFile | undefined>,
  ): Promise<ScannedFile | 'unchanged' | undefined> {
    const abs = path.join(this.root, diskRel);
    const base = { path: rel, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, blocks: [] };
    if (st.isDirectory()) return { path: rel, type: 'dir', size: 0, mode: base.mode, mtimeMs: base.mtimeMs, inode: base.inode, contentHash: EMPTY_SHA256, blocks: [] };
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = await fsp.readlink(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          this.watcher?.mark([diskRel]);
          return undefined;
        }
        this.problem(rel, 'UNREADABLE', `cannot read link ${rel}: ${(e as Error).message}`);
        return undefined;
      }
      return { ...base, type: 'symlink', size: 0, contentHash: createHash('sha256').update(target, 'utf8').digest('hex'), linkTarget: target };
    }
    if (!st.isFile()) {
      this.problem(rel, 'UNSUPPORTED_TYPE', `${rel} is neither a file, a directory nor a symlink`);
      return undefined;
    }
    const k = await known(rel);
    if (k && statUnchanged(k, { type: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, mode: st.mode & 0o7777 })) return 'unchanged';
    return this.hashed(rel, diskRel, st.size);
  }

  private async hashed(rel: string, diskRel: string, sizeHint: number): Promise<ScannedFile | undefined> {
    try {
      const h = await this.hash(path.join(this.root, diskRel), { signal: this.signal, sizeHint });
      return { path: rel, type: 'file', size: h.size, mode: h.mode, mtimeMs: h.mtimeMs, inode: h.inode, contentHash: h.contentHash, blocks: h.blocks };
    } catch (e) {
      if (isScanError(e, 'FILE_CHANGED_DURING_SCAN') || isScanError(e, 'NOT_A_REGULAR_FILE')) {
        // It moved under us: whatever is there now comes with the next burst.
        this.watcher?.mark([diskRel]);
        return undefined;
      }
      if (isScanError(e, 'IO_ERROR')) {
        this.problem(rel, 'UNREADABLE', e.message);
        return undefined;
      }
      throw e;
    }
  }

  /**
   * Turns observations into batches for the sink and records what the sink accepted.
   * Returns how many log changes were accepted.
   */
  private async commit(known: (p: string) => KnownFile | undefined, observed: ReadonlyMap<string, Observation>, origin: 'rescan' | 'watch'): Promise<number> {
    const set = detectChanges(known, observed, { traits: this.traits });
    for (const u of set.unannounceable) this.problem(u.path, 'UNANNOUNCEABLE_PATH', `"${u.path}" cannot be a path in the folder (${u.problem})`);
    const changes = await this.withBlocks(set.changes);
    const maxBatch = origin === 'watch' ? Infinity : (this.options.maxBatch ?? DEFAULT_MAX_BATCH);
    let accepted = 0;
    for (let i = 0; i < changes.length; i += Math.min(maxBatch, changes.length)) {
      throwIfAborted(this.signal);
      const batch = changes.slice(i, i + maxBatch);
      const touchedPaths = [...new Set(batch.flatMap(pathsOfChange))];
      let heads: ReadonlyMap<string, readonly ParentRef[]>;
      if (this.options.headsOfMany !== undefined) heads = await this.options.headsOfMany(touchedPaths);
      else {
        const headLists = await mapLimit(touchedPaths, 64, (p) => this.options.headsOf(p));
        heads = new Map(touchedPaths.map((p, k) => [p, headLists[k]]));
      }
      accepted += await this.send(batch, (p) => heads.get(p) ?? [], origin);
    }
    await this.options.local.upsertLocalFiles(set.refreshed.map((f) => this.recordOf(f)));
    return accepted;
  }

  /**
   * One sink call for the batch. A refused batch of several changes is split in halves and
   * each half offered again, so that one path outside a writer's grant does not hold back the
   * rest: k refused changes among n cost about 2k·log2(n) calls, every one refused before any
   * signing. Each path is visited by one change only, so the heads stay right across halves.
   */
  private async send(batch: readonly LocalChange[], headsOf: (p: string) => readonly ParentRef[], origin: 'rescan' | 'watch'): Promise<number> {
    throwIfAborted(this.signal);
    const entries = toNewChanges(batch, { folder: this.options.folder, author: this.options.author, wallTimeMs: this.clock() }, headsOf);
    const touched = batch.flatMap(pathsOfChange);
    if (entries.length > 0) {
      try {
        await this.options.sink(entries, this.signal);
      } catch (e) {
        if (this.signal.aborted) throw new ScanError('ABORTED', 'scan aborted', { cause: e });
        if (this.options.onRefused !== undefined && (await this.options.onRefused(batch, e, this.signal))) return 0;
        if (batch.length > 1) {
          const mid = batch.length >> 1;
          return (await this.send(batch.slice(0, mid), headsOf, origin)) + (await this.send(batch.slice(mid), headsOf, origin));
        }
        this.refused(touched, e);
        return 0;
      }
    }
    await this.record(batch);
    if (entries.length === 0) return 0;
    this.emit({ type: 'scan:batch', origin, count: entries.length, paths: touched });
    return entries.length;
  }

  private refused(paths: readonly string[], e: unknown): void {
    const err = e as { code?: unknown; reason?: unknown; message?: unknown };
    const code = typeof err?.code === 'string' ? err.code : undefined;
    const reason = typeof err?.reason === 'string' ? err.reason : undefined;
    const message = typeof err?.message === 'string' ? err.message : String(e);
    for (const p of paths) {
      this.retry.add(p);
      this.emit({ type: 'scan:refused', path: p, message, ...(code ? { code } : {}), ...(reason ? { reason } : {}) });
    }
  }

  /**
   * A file whose content the index vouched for (a chmod, say) comes without its blocks, which
   * the index does not keep: read it once more for them.
   */
  private async withBlocks(changes: LocalChange[]): Promise<LocalChange[]> {
    const out: LocalChange[] = [];
    for (const c of changes) {
      if (c.kind === 'delete' || c.file.type !== 'file' || c.file.blocks.reduce((n, b) => n + b.size, 0) === c.file.size) {
        out.push(c);
        continue;
      }
      const target = c.kind === 'move' ? c.to : c.path;
      const again = await this.hashed(target, target, c.file.size);
      if (again === undefined) {
        if (c.kind === 'move') this.retry.add(c.from);
        continue;
      }
      out.push({ ...c, file: again });
    }
    return out;
  }

  /** The index after an accepted batch: rows first (they stop a re-announce), then block locations. */
  private async record(batch: readonly LocalChange[]): Promise<void> {
    const { folder } = this.options;
    const upserts: LocalFileRecord[] = [];
    const deletes: string[] = [];
    const blocksGone: string[] = [];
    const locations: BlockLocation[] = [];
    const place = (f: ScannedFile): void => {
      let offset = 0;
      if (f.type === 'file') for (const b of f.blocks) locations.push({ hash: b.hash, size: b.size, folder, path: f.path, offset: (offset += b.size) - b.size });
    };
    for (const c of batch) {
      if (c.kind === 'put') {
        upserts.push(this.recordOf(c.file));
        if (c.before?.type === 'file') blocksGone.push(c.path);
        place(c.file);
      } else if (c.kind === 'move') {
        upserts.push(this.recordOf(c.file));
        deletes.push(c.from);
        if (c.before.type === 'file') blocksGone.push(c.from);
        if (c.replaced?.type === 'file') blocksGone.push(c.to);
        place(c.file);
      } else {
        deletes.push(c.path);
        if (c.before.type === 'file') blocksGone.push(c.path);
      }
    }
    await this.options.local.upsertLocalFiles(upserts);
    await this.options.local.deleteLocalFiles(folder, deletes);
    for (const p of blocksGone) await this.options.blocks.removeBlockLocations(folder, p);
    await this.options.blocks.addBlockLocations(locations);
  }

  private recordOf(f: ScannedFile): LocalFileRecord {
    return {
      folder: this.options.folder,
      path: f.path,
      size: f.type === 'file' ? f.size : 0,
      mtimeMs: f.mtimeMs,
      inode: f.inode,
      mode: f.mode,
      contentHash: f.type === 'dir' ? EMPTY_SHA256 : f.contentHash,
      type: f.type,
    };
  }

  private problem(p: string, code: ScanEventProblemCode, message: string): void {
    this.emit({ type: 'scan:problem', path: p, code, message });
  }

  /**
   * Reads a directory's `.kinignore` into the rules. Any event for one leads to a rescan
   * (see burst): rules edits are rare, and a rescan of unchanged files reads no file.
   */
  private async reloadKinignore(dir: string, quiet: boolean): Promise<void> {
    let text: string | undefined;
    try {
      text = await fsp.readFile(path.join(this.root, dir, KINIGNORE_FILE), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        if (!quiet) this.problem(dir === '' ? KINIGNORE_FILE : `${dir}/${KINIGNORE_FILE}`, 'UNREADABLE', `cannot read ignore rules: ${(e as Error).message}`);
        return;
      }
    }
    this.options.ignore.setKinignore(dir, text);
  }

  private async spelledExactly(diskRel: string, listings: Map<string, Set<string>>): Promise<boolean> {
    const dir = path.posix.dirname(diskRel);
    let names = listings.get(dir);
    if (!names) {
      try {
        names = new Set(await fsp.readdir(path.join(this.root, dir === '.' ? '' : dir)));
      } catch {
        names = new Set();
      }
      listings.set(dir, names);
    }
    return names.has(path.posix.basename(diskRel));
  }

  private lstatNow(rel: string): Stats | undefined | typeof UNREADABLE {
    try {
      return lstatSync(path.join(this.root, rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : UNREADABLE;
    }
  }

  private async lstat(rel: string): Promise<Stats | undefined | typeof UNREADABLE> {
    try {
      return await fsp.lstat(path.join(this.root, rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : UNREADABLE;
    }
  }
}

function knownOf(r: LocalFileRecord): KnownFile {
  return { path: r.path, type: r.type, size: r.size, mtimeMs: r.mtimeMs, inode: r.inode, mode: r.mode, contentHash: r.contentHash };
}

/** What the walk may reuse: only a hashed file (its blocks are not kept, see `withBlocks`). */
function walkRecord(k: KnownFile | undefined): WalkRecord | undefined {
  if (!k || k.type !== 'file' || k.contentHash === null) return undefined;
  return { path: k.path, type: 'file', size: k.size, mtimeMs: k.mtimeMs, inode: k.inode, contentHash: k.contentHash, blocks: [] };
}
