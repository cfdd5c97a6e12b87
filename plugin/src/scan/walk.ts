/**
 * Walks a folder and reports everything in it: files (hashed into blocks), directories
 * (empty ones too) and symlinks (read with readlink, never followed). lstat everywhere.
 *
 * - A file whose size, mtime and inode match what `known` remembers is not re-read.
 * - Changed files are hashed with bounded concurrency while the walk goes on.
 * - Paths are relative, '/'-separated, NFC. A name on disk that is not NFC is reported as a
 *   problem and skipped (with its subtree), never renamed: renaming would be a change nobody made.
 * - `.kinignore` files are read as their directory is entered, so their rules apply to it.
 * - Anything the walk cannot report is a `ScanProblem`; see there for what a consumer must do.
 */
import { promises as fsp, type Dirent, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { isScanError, ScanError, throwIfAborted } from './errors';
import { hashFileAuto, type HashFileFn, type HashedFile } from './hash-file';
import { KINIGNORE_FILE, type IgnoreRules } from './ignore';
import type { FsTraits } from './local-names';
import { EMPTY_SHA256, type LocalFileRecord, type ScannedFile, type ScanProblem } from './types';
import { mapLimit } from './map-limit';

export interface WalkOptions {
  readonly ignore: IgnoreRules;
  /** What the last scan recorded for a path; a file unchanged in size, mtime and inode keeps its hash. */
  readonly known?: (path: string) => LocalFileRecord | undefined;
  readonly signal?: AbortSignal;
  /** Files of 1 MiB or more hashed at once (default 2: hashing them is CPU-bound, and the machine is shared). */
  readonly concurrency?: number;
  /** Smaller files hashed at once (default 8: they wait on syscalls more than on the CPU). */
  readonly smallFileConcurrency?: number;
  /** Stat calls in flight at once while listing a directory (default 16: these wait on the disk, not the CPU). */
  readonly statConcurrency?: number;
  /** Replaces the in-process hasher (a worker pool, or a counting stand-in in tests). */
  readonly hashFile?: HashFileFn;
  readonly onProblem?: (problem: ScanProblem) => void;
  /**
   * What `probeFilesystem` found. Used for one thing: where NFC and NFD spellings name the same
   * file (macOS), a non-NFC name on disk is reported under its NFC path instead of as a problem.
   */
  readonly fsTraits?: FsTraits;
  /** Read `.kinignore` files into `ignore` while walking (default true). */
  readonly readKinignore?: boolean;
}

/** A path as the folder names it (NFC, '/'-separated) and where it is on disk. */
interface Place {
  readonly rel: string;
  readonly disk: string;
}

/** Items queued between the walker and the consumer; bounds memory on huge trees with a slow consumer. */
const QUEUE_LIMIT = 1024;
/** Below this a file is "small" for scheduling: a handful of syscalls, little hashing. */
const SMALL_FILE_BYTES = 1024 * 1024;

export async function* walkFolder(root: string, options: WalkOptions): AsyncGenerator<ScannedFile, void, undefined> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const queue = new Queue<ScannedFile>(QUEUE_LIMIT);
  const walker = new Walker(path.resolve(root), { ...options, signal }, queue);
  const done = walker.run().then(
    () => queue.close(),
    (e: unknown) => queue.close(e),
  );
  try {
    for (;;) {
      const item = await queue.take();
      if (item === END) break;
      yield item;
    }
  } finally {
    // The consumer stopped early (or an error ended the walk): stop hashing, release a walker
    // blocked on a full queue, and wait for it so no file handle outlives the walk.
    stop.abort();
    queue.close();
    await done;
  }
}

const END = Symbol('end');

class Queue<T> {
  private readonly items: T[] = [];
  private closed = false;
  private error: unknown = undefined;
  private takers: Array<() => void> = [];
  private pushers: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.limit && !this.closed) await new Promise<void>((r) => this.pushers.push(r));
    this.items.push(item);
    this.wake(this.takers);
  }

  close(error?: unknown): void {
    this.closed = true;
    this.error = error;
    this.wake(this.takers);
    this.wake(this.pushers);
  }

  async take(): Promise<T | typeof END> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift()!;
        this.wake(this.pushers);
        return item;
      }
      if (this.closed) {
        if (this.error !== undefined) throw this.error;
        return END;
      }
      await new Promise<void>((r) => this.takers.push(r));
    }
  }

  private wake(list: Array<() => void>): void {
    const waiting = list.splice(0);
    for (const w of waiting) w();
  }
}

/** Runs at most `limit` tasks at once; `run` resolves when the task has *started*. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly running = new Set<Promise<void>>();
  constructor(private readonly limit: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    while (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    const p: Promise<void> = task().finally(() => {
      this.active--;
      this.running.delete(p);
      this.waiting.shift()?.();
    });
    this.running.add(p);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}

class Walker {
  private readonly hash: HashFileFn;
  private readonly hashing: Limiter;
  private readonly hashingSmall: Limiter;
  private readonly statLimit: number;
  private readonly signal: AbortSignal;
  private failure: unknown = undefined;
  private lastBreath = performance.now();

  constructor(
    private readonly root: string,
    private readonly options: WalkOptions & { signal: AbortSignal },
    private readonly out: Queue<ScannedFile>,
  ) {
    const concurrency = options.concurrency ?? 2;
    const smallConcurrency = options.smallFileConcurrency ?? 8;
    const statLimit = options.statConcurrency ?? 16;
    if (![concurrency, smallConcurrency, statLimit].every((n) => n >= 1)) throw new ScanError('INVALID_OPTIONS', 'concurrency must be at least 1');
    this.hash = options.hashFile ?? hashFileAuto;
    this.hashing = new Limiter(concurrency);
    this.hashingSmall = new Limiter(smallConcurrency);
    this.statLimit = statLimit;
    this.signal = options.signal;
  }

  async run(): Promise<void> {
    try {
      const st = await fsp.lstat(this.root);
      if (!st.isDirectory()) throw new ScanError('IO_ERROR', `${this.root} is not a directory`);
      await this.walkDir({ rel: '', disk: this.root }, true);
    } catch (e) {
      this.failure ??= e;
    }
    await Promise.all([this.hashing.drain(), this.hashingSmall.drain()]);
    if (this.failure !== undefined) throw wrapIo(this.failure, this.root);
  }

  /**
   * Small files are hashed with blocking reads and their promises settle as microtasks, so a
   * directory of many small files could hold the event loop for seconds: give it a turn every 10 ms.
   */
  private async breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.lastBreath < 10) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastBreath = performance.now();
  }

  private problem(p: ScanProblem): void {
    this.options.onProblem?.(p);
  }

  private async walkDir(place: Place, isRoot = false): Promise<void> {
    throwIfAborted(this.signal);
    const dir = place.rel;
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(place.disk, { withFileTypes: true });
    } catch (e) {
      if (isRoot) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // vanished since it was listed: the next scan sees it gone
      this.problem({ path: dir, code: 'UNREADABLE', message: `cannot list ${dir}: ${(e as Error).message}` });
      return;
    }
    if (this.options.readKinignore !== false) await this.loadKinignore(place, entries);

    const children: Place[] = [];
    for (const entry of entries) {
      const disk = path.join(place.disk, entry.name);
      let name = entry.name;
      let rel = dir === '' ? name : `${dir}/${name}`;
      if (name.includes('\uFFFD')) {
        // Node decodes names as UTF-8 and turns bad bytes into U+FFFD: such a string names no file on
        // disk, so stat would say ENOENT and the file would silently vanish from the folder.
        this.problem({ path: rel, code: 'INVALID_NAME_ENCODING', message: `"${rel}" is not valid UTF-8; rename it to share it` });
        continue;
      }
      if (name !== name.normalize('NFC')) {
        if (!this.options.fsTraits?.normalizationInsensitive) {
          this.problem({ path: rel, code: 'NON_NFC_NAME', message: `"${rel}" is not in Unicode NFC form; rename it to share it` });
          continue;
        }
        // Here both spellings name one file (macOS): share it under its NFC name, keep using the disk's.
        name = name.normalize('NFC');
        rel = dir === '' ? name : `${dir}/${name}`;
        if (entries.some((e) => e.name === name)) {
          // Both spellings on disk after all: the traits were wrong for this directory. Report, never merge.
          this.problem({ path: rel, code: 'NON_NFC_NAME', message: `"${rel}" exists on disk in two Unicode spellings` });
          continue;
        }
      }
      // Dirent types come from lstat-like d_type, so a symlink to a directory is not a directory here.
      if (this.options.ignore.isIgnored(rel, entry.isDirectory())) continue;
      children.push({ rel, disk });
    }

    const stats = await mapLimit(children, this.statLimit, async (c) => {
      try {
        return await fsp.lstat(c.disk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        this.problem({ path: c.rel, code: 'UNREADABLE', message: `cannot stat ${c.rel}: ${(e as Error).message}` });
        return undefined;
      }
    });

    const subdirs: Place[] = [];
    for (let i = 0; i < children.length; i++) {
      throwIfAborted(this.signal);
      await this.breathe();
      const st = stats[i];
      if (!st) continue;
      const child = children[i];
      const rel = child.rel;
      if (st.isDirectory()) {
        await this.out.push(this.record(rel, 'dir', st, EMPTY_SHA256));
        subdirs.push(child);
      } else if (st.isSymbolicLink()) {
        await this.symlink(child, st);
      } else if (st.isFile()) {
        await this.file(child, st);
      } else {
        this.problem({ path: rel, code: 'UNSUPPORTED_TYPE', message: `${rel} is neither a file, a directory nor a symlink` });
      }
      if (this.failure !== undefined) throw this.failure;
    }
    for (const sub of subdirs) await this.walkDir(sub);
  }

  private async loadKinignore({ rel: dir, disk }: Place, entries: Dirent[]): Promise<void> {
    const has = entries.some((e) => e.name === KINIGNORE_FILE && e.isFile());
    if (!has) {
      this.options.ignore.setKinignore(dir, undefined);
      return;
    }
    try {
      this.options.ignore.setKinignore(dir, await fsp.readFile(path.join(disk, KINIGNORE_FILE), 'utf8'));
    } catch (e) {
      this.problem({ path: dir === '' ? KINIGNORE_FILE : `${dir}/${KINIGNORE_FILE}`, code: 'UNREADABLE', message: `cannot read ignore rules: ${(e as Error).message}` });
    }
  }

  private async symlink({ rel, disk }: Place, st: Stats): Promise<void> {
    let target: string;
    try {
      target = await fsp.readlink(disk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.problem({ path: rel, code: 'UNREADABLE', message: `cannot read link ${rel}: ${(e as Error).message}` });
      return;
    }
    const contentHash = createHash('sha256').update(target, 'utf8').digest('hex');
    const base = this.record(rel, 'symlink', st, contentHash);
    await this.out.push({ ...base, linkTarget: target, ...(linkEscapes(rel, target) ? { linkEscapes: true } : {}) });
  }

  private async file({ rel, disk }: Place, st: Stats): Promise<void> {
    const known = this.options.known?.(rel);
    const mtimeMs = Math.floor(st.mtimeMs);
    if (known && known.type === 'file' && known.size === st.size && known.mtimeMs === mtimeMs && known.inode === st.ino) {
      // A literal, not a spread of record(): a rescan holds one of these per unchanged file, and
      // V8 gives nearly every spread copy a hidden class of its own (~250 bytes more each).
      await this.out.push({ path: rel, type: 'file', size: known.size, mode: st.mode & 0o7777, mtimeMs, inode: st.ino, contentHash: known.contentHash, blocks: known.blocks });
      return;
    }
    const limiter = st.size < SMALL_FILE_BYTES ? this.hashingSmall : this.hashing;
    await limiter.run(async () => {
      let hashed: HashedFile;
      try {
        hashed = await this.hash(disk, { signal: this.signal, sizeHint: st.size });
      } catch (e) {
        if (isScanError(e, 'FILE_CHANGED_DURING_SCAN') || isScanError(e, 'NOT_A_REGULAR_FILE')) {
          this.problem({ path: rel, code: 'FILE_CHANGED_DURING_SCAN', message: e.message });
        } else if (isScanError(e, 'IO_ERROR')) {
          this.problem({ path: rel, code: 'UNREADABLE', message: e.message });
        } else {
          this.failure ??= e;
        }
        return;
      }
      await this.out.push({
        path: rel,
        type: 'file',
        size: hashed.size,
        mode: hashed.mode,
        mtimeMs: hashed.mtimeMs,
        inode: hashed.inode,
        contentHash: hashed.contentHash,
        blocks: hashed.blocks,
      });
    });
  }

  private record(rel: string, type: ScannedFile['type'], st: Stats, contentHash: string): ScannedFile {
    return { path: rel, type, size: 0, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, contentHash, blocks: [] };
  }

}

/**
 * True when following `target` from the link at `rel` would leave the folder: an absolute
 * target, or one that climbs above the root. Lexical only; links through other links are
 * not chased (the scanner never follows any of them).
 */
export function linkEscapes(rel: string, target: string): boolean {
  if (target === '' || path.posix.isAbsolute(target) || path.win32.isAbsolute(target)) return true;
  const parts = rel.split('/').slice(0, -1);
  for (const part of target.split(/[/\\]/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return false;
}

function wrapIo(e: unknown, root: string): unknown {
  if (e instanceof ScanError) return e;
  return new ScanError('IO_ERROR', `cannot scan ${root}: ${(e as Error).message}`, { cause: e });
}
