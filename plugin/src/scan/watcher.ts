/**
 * Watches a folder's directories and hands over bursts of settled paths.
 *
 * - One fs.watch per directory, none per file: a directory's watch reports its children's
 *   creation, removal, renames and content or attribute changes (inotify on Linux), which is
 *   all a burst needs. A watch per file (what chokidar does) cost an inotify watch, a handle
 *   and a re-read of the whole directory (an lstat per entry) for every change, so a folder
 *   of 100k files cost gigabytes and most of the CPU of applying them.
 * - Events only mark paths dirty; a burst is flushed once the folder has been quiet for
 *   `quietMs`, or `maxWaitMs` after its first event, whichever comes first.
 * - Before a burst goes out every dirty path is lstat'ed, and a file must have stopped
 *   changing: size and mtime the same in two stats `settleMs` apart. A file whose last
 *   change (ctime) is already `settleMs` old at the first stat needs no second one (nothing
 *   touched it in between, which is what the second stat would show), so a burst pays the
 *   wait only for files written in its last moments. A file still changing waits for the
 *   next burst.
 * - A directory that a burst finds new (or replaced) is watched, with everything below it,
 *   before the burst goes out, and its entries are marked for the next one (files made in
 *   it before its watch existed); one found gone is no longer watched. `watchDir` lets the
 *   owner watch a directory it made itself before it fills it.
 * - One burst at a time: events that arrive while `onBurst` runs make the next burst.
 */
import { watch, lstatSync, promises as fsp, type FSWatcher, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ScanError } from './errors';

export interface FolderWatcherOptions {
  readonly root: string;
  /** Paths (relative, '/'-separated) the watcher skips; `isDir` is false when not known. */
  readonly isIgnored: (relPath: string, isDir: boolean) => boolean;
  /**
   * A file whose lstat is exactly what the owner itself just wrote and recorded there (apply):
   * left out of the burst, which would only find it unchanged (its second stat, its record
   * read back and compared: ~15% of applying a catch-up of empty files).
   */
  readonly isUnchanged?: (relPath: string, st: Stats) => boolean;
  /** Gets each burst: relative path → its settled lstat, or undefined when gone. */
  readonly onBurst: (burst: ReadonlyMap<string, Stats | undefined>) => Promise<void>;
  /** Watch errors (a watch limit reached, a directory unreadable) and onBurst's. */
  readonly onError?: (error: unknown) => void;
  /** Quiet time that ends a burst (default 100 ms). */
  readonly quietMs?: number;
  /** Longest a burst collects after its first event (default 1,000 ms). */
  readonly maxWaitMs?: number;
  /** Gap between the two stats of a file that must have stopped changing (default 50 ms). */
  readonly settleMs?: number;
  /** Wall clock for the age of a file's last change (default Date.now). */
  readonly now?: () => number;
  /** Most paths in one burst (default 4,096): more go out at once in the bursts that follow. */
  readonly maxBurst?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_QUIET_MS = 100;
export const DEFAULT_MAX_WAIT_MS = 1000;
export const DEFAULT_SETTLE_MS = 50;
/**
 * A burst is one batch of log changes: 100k files written at once made one burst of 100k
 * (hundreds of MB held, and nothing sent to peers until all of it was hashed and signed).
 */
export const DEFAULT_MAX_BURST = 4096;
/** Blocking lstat calls between two turns of the event loop. */
const STAT_SLICE = 256;

/** A watched directory: its watch and the inode it was set on (a directory replaced under its name is another one). */
interface WatchedDir {
  readonly watch: FSWatcher;
  readonly ino: number;
}

export class FolderWatcher {
  private readonly root: string;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly settleMs: number;
  private readonly maxBurst: number;
  private readonly now: () => number;
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private started = false;
  /** Watched directories by relative path ('' is the root). */
  private readonly dirs = new Map<string, WatchedDir>();
  private dirty = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private flushWanted = false;
  /** performance.now() of the last event (the quiet period runs from it). */
  private lastEventAt = 0;
  /** A watch error is reported once per kind, not once per directory of a large tree. */
  private readonly reported = new Set<string>();

  constructor(private readonly options: FolderWatcherOptions) {
    this.root = path.resolve(options.root);
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.maxBurst = options.maxBurst ?? DEFAULT_MAX_BURST;
    this.now = options.now ?? Date.now;
    if (![this.quietMs, this.maxWaitMs, this.settleMs].every((n) => Number.isFinite(n) && n >= 0)) {
      throw new ScanError('INVALID_OPTIONS', 'quietMs, maxWaitMs and settleMs must be non-negative');
    }
    if (!(this.maxBurst >= 1)) throw new ScanError('INVALID_OPTIONS', 'maxBurst must be at least 1');
    this.signal = options.signal ? AbortSignal.any([options.signal, this.stopper.signal]) : this.stopper.signal;
  }

  /** Starts watching; resolves once every directory of the folder is watched (events after that are seen). */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.signal.aborted) throw new ScanError('ABORTED', 'watcher stopped before it started');
    this.started = true;
    this.signal.addEventListener('abort', () => void this.stop(), { once: true });
    await this.watchTree('', false);
  }

  /** Directories watched now (for tests and benches). */
  get watchedDirs(): number {
    return this.dirs.size;
  }

  /**
   * Watches a directory the owner just made (and will fill), before the event that made it
   * comes: what is written into it is then seen from the first file on. Returns false when it
   * cannot be watched (ignored, gone, not a directory); a later burst tries again.
   */
  watchDir(relPath: string): boolean {
    if (this.signal.aborted || !this.started || this.options.isIgnored(relPath, true)) return false;
    const had = this.dirs.get(relPath);
    if (had !== undefined) return true;
    return this.addWatch(relPath) !== undefined;
  }

  /**
   * Brings the watches in line with the disk: directories no longer there (or now ignored)
   * are let go, new ones watched. For rule changes and as a periodic check; bursts keep them
   * in line otherwise.
   */
  async refresh(): Promise<void> {
    if (this.signal.aborted || !this.started) return;
    const seen = await this.watchTree('', false);
    for (const rel of [...this.dirs.keys()]) if (!seen.has(rel)) this.unwatch(rel);
  }

  /**
   * Watches `rel` and every directory below it that the rules do not ignore (links are not
   * followed). `markEntries`: the entries found are marked dirty (a directory that appeared
   * while events for it could not be seen). Returns every directory found.
   */
  private async watchTree(rel: string, markEntries: boolean): Promise<Set<string>> {
    const seen = new Set<string>();
    const stack = [rel];
    while (stack.length > 0) {
      if (this.signal.aborted) break;
      const dir = stack.pop() as string;
      const st = this.dirs.get(dir) ?? this.addWatch(dir);
      if (st === undefined) continue;
      seen.add(dir);
      let entries;
      try {
        entries = await fsp.readdir(path.join(this.root, dir), { withFileTypes: true });
      } catch {
        continue; // gone again, or unreadable: the events for it (or the rescan) say which
      }
      const marks: string[] = [];
      for (const d of entries) {
        const child = dir === '' ? d.name : `${dir}/${d.name}`;
        const isDir = d.isDirectory();
        if (this.options.isIgnored(child, isDir)) continue;
        if (markEntries) marks.push(child);
        if (isDir) stack.push(child);
      }
      if (marks.length > 0) this.mark(marks);
    }
    return seen;
  }

  /** Sets one directory's watch; undefined when it cannot be (reported, unless simply gone). */
  private addWatch(rel: string): WatchedDir | undefined {
    const abs = rel === '' ? this.root : path.join(this.root, rel);
    let w: FSWatcher;
    let ino: number;
    try {
      const st = lstatSync(abs);
      if (!st.isDirectory()) return undefined;
      ino = st.ino;
      w = watch(abs, { persistent: true }, (_event, name) => this.onEvent(rel, abs, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.reportOnce(code ?? 'watch', new ScanError('IO_ERROR', `cannot watch ${rel === '' ? 'the folder' : rel}: ${(e as Error).message}${code === 'ENOSPC' ? ' (the system limit on watches is reached: raise fs.inotify.max_user_watches; changes are found by the periodic rescan)' : ''}`, { cause: e }));
      return undefined;
    }
    w.on('error', () => {
      // The directory went away under its watch (or the watch broke): the path is looked at again.
      if (this.dirs.get(rel)?.watch === w) this.unwatch(rel);
      else w.close();
      if (rel !== '') this.mark([rel]);
    });
    const entry = { watch: w, ino };
    this.dirs.set(rel, entry);
    return entry;
  }

  private onEvent(dirRel: string, dirAbs: string, name: string | Buffer | null): void {
    if (this.signal.aborted) return;
    if (name === null || name === undefined || name === '') {
      // No name: something in the directory changed; its entries are looked at again.
      void this.watchTree(dirRel, true).catch(() => undefined);
      if (dirRel !== '') this.mark([dirRel]);
      return;
    }
    const n = typeof name === 'string' ? name : name.toString('utf8');
    const child = dirRel === '' ? n : `${dirRel}/${n}`;
    // An event about the watched directory itself (removed, moved) names the directory.
    const self = dirRel !== '' && n === path.basename(dirAbs);
    // Another event for a path already waiting (a file made, then its times set: two events
    // for each file apply writes) says only that the folder is not quiet yet.
    if (!self && this.dirty.has(child)) return this.noteEvent();
    const rels: string[] = [];
    if (!this.options.isIgnored(child, false)) rels.push(child);
    if (self) rels.push(dirRel);
    this.mark(rels);
  }

  /** Stops watching `rel` and everything below it. */
  private unwatch(rel: string): void {
    const prefix = rel === '' ? '' : `${rel}/`;
    for (const [d, w] of this.dirs) {
      if (d !== rel && !d.startsWith(prefix)) continue;
      w.watch.close();
      this.dirs.delete(d);
    }
  }

  /** After a burst's stats: new or replaced directories get watched, gone ones let go. */
  private async followDirs(settled: ReadonlyMap<string, Stats | undefined>): Promise<void> {
    for (const [rel, st] of settled) {
      const had = this.dirs.get(rel);
      if (st?.isDirectory()) {
        if (had !== undefined && had.ino === st.ino) continue;
        if (had !== undefined) this.unwatch(rel);
        if (!this.options.isIgnored(rel, true)) await this.watchTree(rel, true);
      } else if (had !== undefined) {
        // Gone, or a file or link now: the directory's watch (and its subtree's) goes.
        this.unwatch(rel);
      }
    }
  }

  private reportOnce(kind: string, error: ScanError): void {
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    this.options.onError?.(error);
  }

  /** Marks paths dirty as if events had come for them (retries, paths learned elsewhere). */
  mark(relPaths: Iterable<string>): void {
    if (this.signal.aborted) return;
    let any = false;
    for (const p of relPaths) {
      this.dirty.add(p);
      any = true;
    }
    if (!any) return;
    this.noteEvent();
  }

  /**
   * The quiet period starts again (the time of the last event is kept; the timer checks it
   * when it fires rather than being replaced on each of thousands of events).
   */
  private noteEvent(): void {
    // A full burst goes now: waiting for quiet would only grow it.
    if (this.dirty.size >= this.maxBurst) return this.flush();
    this.lastEventAt = performance.now();
    this.quietTimer ??= setTimeout(() => this.quietCheck(), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.flush(), this.maxWaitMs);
  }

  private quietCheck(): void {
    this.quietTimer = undefined;
    const left = this.lastEventAt + this.quietMs - performance.now();
    if (left >= 1) this.quietTimer = setTimeout(() => this.quietCheck(), left);
    else this.flush();
  }

  /** Stops watching and waits for the burst in progress. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.clearTimers();
    for (const d of this.dirs.values()) d.watch.close();
    this.dirs.clear();
    await this.busy;
  }

  /**
   * lstat of many paths. Blocking calls, a slice at a time with a turn of the event loop in
   * between: an lstat of a cached inode takes microseconds, while the async API queues behind
   * whatever else holds the thread pool during a burst (apply's writes; measured with chokidar's
   * stats there: 1,000 paths took 340 ms async, a few ms like this).
   *
   * A path that cannot be stat'ed (a directory above it lost its x bit) is reported and left
   * out: it is neither gone nor known, and the periodic rescan reports it as a problem.
   */
  private async lstatMany(rels: readonly string[]): Promise<Array<Stats | undefined | typeof UNREADABLE>> {
    const out = new Array<Stats | undefined | typeof UNREADABLE>(rels.length);
    for (let i = 0; i < rels.length; i++) {
      if (i > 0 && i % STAT_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        out[i] = lstatSync(path.join(this.root, rels[i]));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') out[i] = undefined;
        else {
          this.options.onError?.(new ScanError('IO_ERROR', `cannot stat ${rels[i]}: ${(e as Error).message}`, { cause: e }));
          out[i] = UNREADABLE;
        }
      }
    }
    return out;
  }

  private clearTimers(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.quietTimer = undefined;
    this.maxTimer = undefined;
  }

  private flush(): void {
    if (this.signal.aborted) return;
    if (this.busy) {
      this.flushWanted = true;
      return;
    }
    this.clearTimers();
    if (this.dirty.size === 0) return;
    let paths = this.dirty;
    this.dirty = new Set();
    if (paths.size > this.maxBurst) {
      // The oldest go first; the rest waited long enough already and follow right after.
      const all = paths;
      paths = new Set();
      for (const p of all) (paths.size < this.maxBurst ? paths : this.dirty).add(p);
      this.flushWanted = true;
    }
    this.busy = this.runBurst(paths).finally(() => {
      this.busy = undefined;
      if (this.flushWanted) {
        this.flushWanted = false;
        this.flush();
      }
    });
  }

  private async runBurst(paths: Set<string>): Promise<void> {
    try {
      const { settled, changing } = await this.settle([...paths]);
      if (this.signal.aborted) return;
      if (changing.length > 0) this.mark(changing);
      await this.followDirs(settled);
      if (this.signal.aborted) return;
      if (settled.size > 0) await this.options.onBurst(settled);
    } catch (e) {
      if (this.signal.aborted) return;
      // The burst is not lost: its paths are looked at again with the next one.
      this.options.onError?.(e);
      this.mark(paths);
    }
  }

  private async settle(paths: string[]): Promise<{ settled: Map<string, Stats | undefined>; changing: string[] }> {
    const first = await this.lstatMany(paths);
    const settled = new Map<string, Stats | undefined>();
    const recheck: number[] = [];
    const now = this.now();
    for (let i = 0; i < paths.length; i++) {
      const st = first[i];
      if (st === UNREADABLE) continue;
      if (st !== undefined && st.isFile() && this.options.isUnchanged?.(paths[i], st) === true) continue;
      if (st !== undefined && st.isFile() && !changedLongAgo(st, now, this.settleMs)) recheck.push(i);
      else settled.set(paths[i], st);
    }
    const changing: string[] = [];
    if (recheck.length === 0) return { settled, changing };
    await delay(this.settleMs, this.signal);
    const second = await this.lstatMany(recheck.map((i) => paths[i]));
    recheck.forEach((i, k) => {
      const a = first[i] as Stats;
      const b = second[k];
      if (b === UNREADABLE) return;
      if (b === undefined || (b.isFile() && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino)) settled.set(paths[i], b);
      else changing.push(paths[i]);
    });
    return { settled, changing };
  }
}

/**
 * The last change (ctime: content, mode or times) is at least `settleMs` old. Only trusted
 * with sub-second timestamps: a filesystem that rounds them down to seconds would make a
 * file being written look old.
 */
function changedLongAgo(st: Stats, now: number, settleMs: number): boolean {
  const last = Math.max(st.ctimeMs, st.mtimeMs);
  return last % 1000 !== 0 && now - last >= settleMs;
}

const UNREADABLE = Symbol('unreadable');

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

