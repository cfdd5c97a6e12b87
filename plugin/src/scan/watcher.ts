/**
 * Watches a folder with chokidar and hands over bursts of settled paths.
 *
 * - Events only mark paths dirty; a burst is flushed once the folder has been quiet for
 *   `quietMs`, or `maxWaitMs` after its first event, whichever comes first.
 * - Before a burst goes out every dirty path is lstat'ed, and a file must have stopped
 *   changing: size and mtime the same in two stats `settleMs` apart. A file whose last
 *   change (ctime) is already `settleMs` old at the first stat needs no second one (nothing
 *   touched it in between, which is what the second stat would show), so a burst pays the
 *   wait only for files written in its last moments. A file still changing waits for the
 *   next burst.
 * - One burst at a time: events that arrive while `onBurst` runs make the next burst.
 * - chokidar's own write-finish polling and atomic-save delay are off: both add 100 ms or
 *   more, and the quiet period does their job.
 */
import { watch, type FSWatcher } from 'chokidar';
import { lstatSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ScanError } from './errors';
import { mapLimit } from './map-limit';

export interface FolderWatcherOptions {
  readonly root: string;
  /** Paths (relative, '/'-separated) the watcher skips; `isDir` is false when not known. */
  readonly isIgnored: (relPath: string, isDir: boolean) => boolean;
  /** Gets each burst: relative path → its settled lstat, or undefined when gone. */
  readonly onBurst: (burst: ReadonlyMap<string, Stats | undefined>) => Promise<void>;
  /** chokidar's errors (a watch limit reached, a directory unreadable) and onBurst's. */
  readonly onError?: (error: unknown) => void;
  /** Quiet time that ends a burst (default 100 ms). */
  readonly quietMs?: number;
  /** Longest a burst collects after its first event (default 1,000 ms). */
  readonly maxWaitMs?: number;
  /** Gap between the two stats of a file that must have stopped changing (default 50 ms). */
  readonly settleMs?: number;
  /** Wall clock for the age of a file's last change (default Date.now). */
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_QUIET_MS = 100;
export const DEFAULT_MAX_WAIT_MS = 1000;
export const DEFAULT_SETTLE_MS = 50;
/** Blocking lstat calls between two turns of the event loop. */
const STAT_SLICE = 256;

export class FolderWatcher {
  private readonly root: string;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly stopper = new AbortController();
  private readonly signal: AbortSignal;
  private watcher: FSWatcher | undefined;
  private dirty = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private flushWanted = false;
  /** Paths sent in a burst lately, and when: chokidar's events for them trail the raw ones. */
  private readonly flushedAt = new Map<string, number>();

  constructor(private readonly options: FolderWatcherOptions) {
    this.root = path.resolve(options.root);
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.now = options.now ?? Date.now;
    if (![this.quietMs, this.maxWaitMs, this.settleMs].every((n) => Number.isFinite(n) && n >= 0)) {
      throw new ScanError('INVALID_OPTIONS', 'quietMs, maxWaitMs and settleMs must be non-negative');
    }
    this.signal = options.signal ? AbortSignal.any([options.signal, this.stopper.signal]) : this.stopper.signal;
  }

  /** Starts watching; resolves once chokidar has set up its watches (events after that are seen). */
  async start(): Promise<void> {
    if (this.watcher) return;
    if (this.signal.aborted) throw new ScanError('ABORTED', 'watcher stopped before it started');
    const w = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      awaitWriteFinish: false,
      atomic: false,
      persistent: true,
      ignorePermissionErrors: true,
      ignored: (p: string, stats?: Stats) => {
        const rel = this.relative(p);
        return rel !== undefined && rel !== '' && this.options.isIgnored(rel, stats?.isDirectory() ?? false);
      },
    });
    this.watcher = w;
    w.on('all', (_event, p) => {
      const rel = this.relative(p);
      // Usually the raw event below marked it already; then this one says nothing new about
      // when the folder went quiet (it comes late), and must not hold the burst back.
      if (rel === undefined || rel === '' || this.dirty.has(rel)) return;
      // A late echo of a raw event whose burst already went out: that burst saw the path.
      const at = this.flushedAt.get(rel);
      if (at !== undefined && this.now() - at < this.maxWaitMs) return;
      this.mark([rel]);
    });
    // chokidar's own events come after it has re-read the directory (at most once a second
    // per directory) and stat'ed every new entry: under a burst they arrive in clumps, late
    // enough to cut a burst in two. The raw fs.watch events name the path as it happens; the
    // chokidar events that follow only find it recorded already.
    w.on('raw', (_event, evPath, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (typeof watched !== 'string') return;
      const candidates: string[] = [];
      if (typeof evPath === 'string' && evPath !== '') {
        candidates.push(path.resolve(watched, evPath));
        // A watcher on a file names the file itself; one on a directory names a child.
        if (path.basename(watched) === evPath) candidates.push(path.resolve(watched));
      } else {
        candidates.push(path.resolve(watched));
      }
      const rels: string[] = [];
      for (const c of candidates) {
        const rel = this.relative(c);
        if (rel !== undefined && rel !== '' && !this.options.isIgnored(rel, false)) rels.push(rel);
      }
      this.mark(rels);
    });
    w.on('error', (e) => this.options.onError?.(e));
    this.signal.addEventListener('abort', () => void this.stop(), { once: true });
    await new Promise<void>((resolve) => {
      w.once('ready', resolve);
      this.signal.addEventListener('abort', () => resolve(), { once: true });
    });
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
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.flush(), this.maxWaitMs);
  }

  /** Stops watching and waits for the burst in progress. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.clearTimers();
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
    await this.busy;
  }

  /**
   * lstat of many paths. Blocking calls, a slice at a time with a turn of the event loop in
   * between: an lstat of a cached inode takes microseconds, while the async API queues behind
   * chokidar's own stats in the thread pool during a burst (measured: 1,000 paths took 340 ms
   * async, a few ms like this).
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

  private relative(abs: string): string | undefined {
    // chokidar asks this for every entry it reads: the common case without path.relative.
    if (abs.length > this.root.length + 1 && abs.startsWith(this.root) && abs[this.root.length] === path.sep && !abs.includes(`${path.sep}.`)) {
      const rel = abs.slice(this.root.length + 1);
      return path.sep === '/' ? rel : rel.split(path.sep).join('/');
    }
    const rel = path.relative(this.root, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    return rel.split(path.sep).join('/');
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
    const paths = this.dirty;
    this.dirty = new Set();
    const now = this.now();
    for (const [p, at] of this.flushedAt) if (now - at >= this.maxWaitMs) this.flushedAt.delete(p);
    for (const p of paths) this.flushedAt.set(p, now);
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

