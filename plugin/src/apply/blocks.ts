/**
 * Where apply gets block bytes: local files first (any file of any folder on this node that
 * the block index names), then whatever the sync layer plugs in. A source may lie (the file
 * changed since it was indexed, a peer sent garbage): every block is hashed before use.
 */
import { hash as oneShotHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as fsc } from 'node:fs';
import { promisify } from 'node:util';
import type { BlockIndex, BlockLocation } from '../store';
import { BlockReads, sharedBlockReads, WORKER_BLOCK_BYTES } from './block-reads';
import { throwIfAborted } from './errors';
import { safePath } from './safe-path';

export interface BlockRef {
  readonly hash: string;
  readonly size: number;
}

export interface BlockSource {
  /**
   * The block's bytes, hash-checked, or undefined when this source does not have it.
   * `from`: a peer that announced the block's file (the author of the entry being built), to
   * be asked before peers that may still lack it themselves.
   */
  read(hash: string, size: number, signal?: AbortSignal, from?: string): Promise<Buffer | undefined>;
  /**
   * A hint: these blocks will be read soon, in this order (a file about to be built). A
   * source that fetches from far away starts on them now, within its own memory bound.
   */
  prefetch?(blocks: readonly BlockRef[], signal?: AbortSignal, from?: string): void;
  /** Whether the block is in hand already (read would not wait on a disk or a peer). */
  holds?(hash: string): boolean;
}

/**
 * SHA-256 per buffer object, remembered: a block is checked by every layer it passes (the peer
 * lane, the chain, buildFile), and each check of the same bytes gives the same answer. Sound
 * because nothing writes to a block's buffer once it was read or received; a buffer that is
 * written to must never be hashed with this.
 */
const hashed = new WeakMap<Uint8Array, string>();
export const sha256 = (b: Uint8Array): string => {
  let h = hashed.get(b);
  if (h === undefined) {
    // One-shot (Node >= 20.12, as package.json's engines require): a Hash object per block is a
    // native handle the GC must finalize, and each of a receiver's blocks is hashed on arrival.
    h = oneShotHash('sha256', b, 'hex');
    hashed.set(b, h);
  }
  return h;
};

// O_NOFOLLOW: an indexed file that became a symlink must not make us read outside its folder.
const READ_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);
const fsOpen = promisify(fs.open);
const fsRead = promisify(fs.read);
const fsClose = promisify(fs.close);

/** A file stays open this long after its last block read: a peer asks for a file's blocks in bursts. */
const HANDLE_IDLE_MS = 500;
const MAX_HANDLES = 64;
/** Locations of blocks served lately: each block of a transfer is asked once by every peer. */
const MAX_REMEMBERED = 4096;
/** Blocks of a file listed at once for a peer reading it in order (see LocalBlockSource.filesRead). */
const NEXT_BLOCKS = 1024;
/** Files read lately whose next blocks are listed. */
const FILES_READ = 64;
/** Lookups made ahead for files about to be built (a 1 GiB file has about 4,000 blocks). */
const MAX_LOCATED = 16_384;
/**
 * Bytes of blocks read lately, kept verified: peers fetching the same files at once ask for
 * the same blocks within moments, and the second asker then costs no read and no hash.
 */
const RECENT_BYTES = 16 * 1024 * 1024;

/**
 * A bounded map of two generations, each holding up to half the bound (counted by `weigh`): a
 * full young generation becomes the old one and the old one goes. Evicting the oldest key per
 * insert from one Map is slow in V8: deleted keys stay at the front until the next rehash, and
 * each `keys().next()` (or loop from the start) walks over all of them; a peer serving 10k
 * small files paid that for every block.
 */
class Generations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private youngWeight = 0;

  constructor(
    private readonly bound: number,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}

  get(k: string): V | undefined {
    return this.young.get(k) ?? this.old.get(k);
  }

  set(k: string, v: V): void {
    this.old.delete(k);
    const had = this.young.get(k);
    if (had !== undefined) this.youngWeight -= this.weigh(had);
    this.young.set(k, v);
    this.youngWeight += this.weigh(v);
    if (this.youngWeight >= this.bound / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngWeight = 0;
    }
  }

  delete(k: string): void {
    const had = this.young.get(k);
    if (had !== undefined) {
      this.young.delete(k);
      this.youngWeight -= this.weigh(had);
    }
    this.old.delete(k);
  }
}

interface Held {
  readonly fd: Promise<number>;
  uses: number;
  lastUse: number;
}

/**
 * Open descriptors of the files blocks are served from, one per file for a burst of reads (an
 * open, a path check and a close per block cost more than the read). The path is checked when
 * the file is opened; a file replaced or rewritten meanwhile only makes the hash check fail, and
 * the caller then asks again with a fresh descriptor.
 */
class OpenFiles {
  private readonly held = new Map<string, Held>();
  private sweeper: NodeJS.Timeout | undefined;
  /**
   * Directories of each root found to be real directories lately (see SafePathOptions.verified),
   * forgotten at each sweep: a file per block is opened when serving small files, and an lstat
   * per parent of each cost more than the read. A directory swapped for a link within that
   * moment could only make a read return bytes that fail the hash check, or a block that the
   * index says is here and the asker named by its hash.
   */
  private verified = new Map<string, Set<string>>();

  /** The absolute path of `rel`, its parents checked (see `verified`); undefined when it is unsafe. */
  pathOf(root: string, rel: string): Promise<string | undefined> {
    let verified = this.verified.get(root);
    if (verified === undefined) this.verified.set(root, (verified = new Set()));
    this.sweeper ??= setInterval(() => this.sweep(), HANDLE_IDLE_MS).unref();
    return safePath(root, rel, { verified }).catch(() => undefined);
  }

  async read(root: string, rel: string, offset: number, size: number, fresh: boolean): Promise<Buffer | undefined> {
    const key = `${root}\0${rel}`;
    let h = this.held.get(key);
    if (h !== undefined && fresh) {
      this.drop(key, h);
      h = undefined;
    }
    if (h === undefined) {
      const opened = this.pathOf(root, rel).then((abs) => {
        if (abs === undefined) throw new Error(`${rel}: not a safe path in ${root}`);
        return fsOpen(abs, READ_FLAGS);
      });
      h = { fd: opened, uses: 0, lastUse: 0 };
      h.fd.catch(() => undefined);
      this.held.set(key, h);
      this.trim();
    }
    h.uses++;
    try {
      const fd = await h.fd;
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fsRead(fd, buf, got, size - got, offset + got);
        if (bytesRead === 0) return undefined;
        got += bytesRead;
      }
      return buf;
    } catch {
      // A location is a claim to check, not a promise: gone, moved, unreadable all mean "not here".
      if (this.held.get(key) === h) this.drop(key, h);
      return undefined;
    } finally {
      h.uses--;
      h.lastUse = performance.now();
    }
  }

  private drop(key: string, h: Held): void {
    this.held.delete(key);
    // Closed once the reads on it are done (they hold the promise, not the map entry).
    const close = (): void => void h.fd.then((fd) => fsClose(fd), () => undefined).catch(() => undefined);
    if (h.uses === 0) close();
    else {
      const wait = setInterval(() => {
        if (h.uses === 0) {
          clearInterval(wait);
          close();
        }
      }, 50);
      wait.unref();
    }
  }

  private trim(): void {
    if (this.held.size <= MAX_HANDLES) return;
    // Oldest first (a Map iterates in insertion order); files being read stay.
    for (const [key, h] of this.held) {
      if (this.held.size <= MAX_HANDLES) break;
      if (h.uses === 0) this.drop(key, h);
    }
  }

  private sweep(): void {
    this.verified = new Map();
    const now = performance.now();
    for (const [key, h] of this.held) if (h.uses === 0 && now - h.lastUse >= HANDLE_IDLE_MS) this.drop(key, h);
    if (this.held.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** Reads blocks from local files named by the block index; stale locations are skipped. */
export class LocalBlockSource implements BlockSource {
  private readonly files = new OpenFiles();
  private readonly remembered = new Generations<BlockLocation>(MAX_REMEMBERED);
  /** Blocks read lately (verified; never written to), oldest first. */
  private readonly recent = new Generations<Buffer>(RECENT_BYTES, (b) => b.length);

  /**
   * Where the blocks of files about to be built are, looked up for the whole file at once (see
   * `prefetch`) and taken by the first read of each: a read-ahead that starts one block at a
   * time otherwise costs a query per block. A location found meanwhile elsewhere is missed (the
   * block then comes from a peer); a stale one only fails its hash check.
   */
  private readonly located = new Generations<Promise<BlockLocation[]>>(MAX_LOCATED);
  /** Lookups asked in this turn of the event loop, answered by one findBlocks (see `locate`). */
  private lookups: Map<string, Array<{ resolve: (locs: BlockLocation[]) => void; reject: (e: unknown) => void }>> | undefined;

  /**
   * Files a lookup found a block in lately, and up to which offset their next blocks are
   * remembered already (-1: none yet; Infinity: being looked up). A peer fetching a file asks
   * for its blocks in order: from its second looked-up block on, the file's next blocks are
   * listed in one query, and the reads that follow need none.
   */
  private readonly filesRead = new Map<string, number>();

  /** `rootOf` maps a folder id to its root on this node (undefined: not here, skip); `reads`: where small blocks are read (the process's worker by default). */
  constructor(
    private readonly index: Pick<BlockIndex, 'findBlock'> & Partial<Pick<BlockIndex, 'findBlocks' | 'blocksAfter'>>,
    private readonly rootOf: (folder: string) => string | undefined,
    private readonly reads: BlockReads = sharedBlockReads(),
  ) {}

  prefetch(blocks: readonly BlockRef[]): void {
    const { findBlocks } = this.index;
    if (findBlocks === undefined) return;
    const hashes = [...new Set(blocks.map((b) => b.hash))].filter((h) => this.recent.get(h) === undefined && this.remembered.get(h) === undefined && this.located.get(h) === undefined);
    if (hashes.length < 2) return;
    const found = findBlocks.call(this.index, hashes);
    // A failed lookup is asked again by the read itself.
    for (const h of hashes) {
      const locs = found.then((m) => m.get(h) ?? []);
      locs.catch(() => undefined);
      this.located.set(h, locs);
    }
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    throwIfAborted(signal);
    const had = this.recent.get(hash);
    if (had !== undefined && had.length === size) return had;
    const data = await this.find(hash, size, signal);
    if (data !== undefined && size <= RECENT_BYTES / 4) this.recent.set(hash, data);
    return data;
  }

  private async find(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    const last = this.remembered.get(hash);
    if (last !== undefined) {
      const data = await this.readAt(last, hash, size, signal);
      if (data !== undefined) return data;
      this.remembered.delete(hash);
    }
    const { locations, ahead } = await this.locate(hash);
    // Indexed nowhere: what nearly every block of a new file from a peer is.
    if (locations.length === 0) return undefined;
    const tried = last === undefined ? [] : [last];
    const found = await this.readFirst(locations, tried, hash, size, signal);
    // A block looked up with its file's others (prefetch) needs no listing of what follows.
    if (found !== undefined && !ahead) this.rememberNext(found.loc);
    if (found !== undefined || !ahead) return found?.data;
    // Looked up ahead, and none of it holds the block now: the file moved or changed since (a
    // lookup made for a whole batch can wait while other blocks are served). Asked afresh, so a
    // stale lookup never makes us answer "not here" for a block the index knows elsewhere.
    return (await this.readFirst(await this.lookup(hash), [...tried, ...locations], hash, size, signal))?.data;
  }

  /** The first of `locations` (those in `skip` left out) that holds the block; remembered for the next read. */
  private async readFirst(locations: readonly BlockLocation[], skip: readonly BlockLocation[], hash: string, size: number, signal?: AbortSignal): Promise<{ data: Buffer; loc: BlockLocation } | undefined> {
    for (const loc of locations) {
      throwIfAborted(signal);
      if (skip.some((l) => l.folder === loc.folder && l.path === loc.path && l.offset === loc.offset)) continue;
      const data = await this.readAt(loc, hash, size, signal);
      if (data === undefined) continue;
      this.remembered.set(hash, loc);
      return { data, loc };
    }
    return undefined;
  }

  /** Lists the blocks after `loc` in its file (see `filesRead`); a failed listing only leaves them to lookups. */
  private rememberNext(loc: BlockLocation): void {
    const { blocksAfter } = this.index;
    if (blocksAfter === undefined) return;
    const file = `${loc.folder}\0${loc.path}`;
    const until = this.filesRead.get(file);
    this.filesRead.delete(file);
    // The first block found in a file: most files have one block, and they must not cost a query more.
    if (until === undefined || loc.offset <= until) {
      this.filesRead.set(file, until ?? -1);
    } else {
      this.filesRead.set(file, Infinity);
      blocksAfter.call(this.index, loc.folder, loc.path, loc.offset, NEXT_BLOCKS).then(
        (next) => {
          for (const n of next) if (this.remembered.get(n.hash) === undefined) this.remembered.set(n.hash, n);
          if (this.filesRead.get(file) === Infinity) this.filesRead.set(file, next.length === NEXT_BLOCKS ? next[next.length - 1].offset : Infinity);
        },
        () => this.filesRead.delete(file),
      );
    }
    if (this.filesRead.size > FILES_READ) this.filesRead.delete(this.filesRead.keys().next().value as string);
  }

  /** Where the index says the block is: as looked up ahead for its file, else now. */
  private async locate(hash: string): Promise<{ locations: BlockLocation[]; ahead: boolean }> {
    const known = this.located.get(hash);
    if (known !== undefined) {
      this.located.delete(hash);
      const locations = await known.catch(() => undefined);
      if (locations !== undefined) return { locations, ahead: true };
    }
    return { locations: await this.lookup(hash), ahead: false };
  }

  /**
   * The files of an apply run ask at once, mostly for blocks no local file has (a new file's):
   * their lookups are gathered for a turn of the event loop and answered by one query (a query
   * per block cost ~0.1 ms of the main thread per small file).
   */
  private lookup(hash: string): Promise<BlockLocation[]> {
    const { findBlocks } = this.index;
    if (findBlocks === undefined) return this.index.findBlock(hash);
    return new Promise((resolve, reject) => {
      if (this.lookups === undefined) {
        const batch = new Map<string, Array<{ resolve: (locs: BlockLocation[]) => void; reject: (e: unknown) => void }>>();
        this.lookups = batch;
        setImmediate(() => {
          this.lookups = undefined;
          findBlocks.call(this.index, [...batch.keys()]).then(
            (found) => {
              for (const [h, waiters] of batch) for (const w of waiters) w.resolve(found.get(h) ?? []);
            },
            (e: unknown) => {
              for (const waiters of batch.values()) for (const w of waiters) w.reject(e);
            },
          );
        });
      }
      let waiters = this.lookups.get(hash);
      if (waiters === undefined) this.lookups.set(hash, (waiters = []));
      waiters.push({ resolve, reject });
    });
  }

  /** The verified block at `loc`; once more with a fresh descriptor when a kept one read something else. */
  private async readAt(loc: BlockLocation, hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (loc.size !== size) return undefined;
    const root = this.rootOf(loc.folder);
    if (root === undefined) return undefined;
    if (size <= WORKER_BLOCK_BYTES) {
      // A small block is mostly a small file's only one: opened, read, hashed and closed on the worker.
      const abs = await this.files.pathOf(root, loc.path);
      if (abs === undefined) return undefined;
      const data = await this.reads.read({ path: abs, offset: loc.offset, size, hash }, signal);
      // The worker hashed exactly these bytes, and nothing writes to them after.
      if (data !== undefined) hashed.set(data, hash);
      return data;
    }
    for (const fresh of [false, true]) {
      const data = await this.files.read(root, loc.path, loc.offset, size, fresh);
      if (data !== undefined && sha256(data) === hash) return data;
    }
    return undefined;
  }
}

/** Bytes of blocks read ahead and not yet taken, per chain (an engine): the memory bound of read-ahead (see FILL_WINDOW_BYTES). */
export const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** A block read ahead and not taken for this long belongs to a file whose build stopped: dropped. */
const READ_AHEAD_STALE_MS = 15_000;

interface Ahead {
  readonly data: Promise<Buffer | undefined>;
  readonly size: number;
  /** Reads this entry stands for (the same block twice in the files being built). */
  refs: number;
  settled: boolean;
  at: number;
}

interface AheadJob {
  readonly blocks: readonly BlockRef[];
  readonly from: string | undefined;
  next: number;
}

/**
 * Asks each source in turn (local first, the network later); the first verified answer wins.
 * Files about to be built are read ahead (`prefetch`), round robin between them, through the
 * same chain and within READ_AHEAD_BYTES: a build that reads one block at a time then finds
 * the next ones on their way, and a far peer sees many requests at once instead of one per file.
 */
export class ChainedBlockSource implements BlockSource {
  private readonly sources: BlockSource[];
  private readonly ahead = new Map<string, Ahead>();
  private aheadBytes = 0;
  private jobs: AheadJob[] = [];
  private turn = 0;
  private readonly watched = new WeakSet<AbortSignal>();

  constructor(...sources: BlockSource[]) {
    this.sources = sources;
  }

  /** Adds a source at the end (the sync layer's, once it exists). */
  add(source: BlockSource): void {
    this.sources.push(source);
  }

  /** Bytes read ahead and not taken yet (for tests and status). */
  get readAheadBytes(): number {
    return this.aheadBytes;
  }

  prefetch(blocks: readonly BlockRef[], signal?: AbortSignal, from?: string): void {
    if (blocks.length < 2 || signal?.aborted) return;
    for (const s of this.sources) s.prefetch?.(blocks, signal, from);
    this.jobs.push({ blocks, from, next: 0 });
    if (signal !== undefined && !this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.cancel(), { once: true });
    }
    this.pump(signal);
  }

  holds(hash: string): boolean {
    return this.ahead.get(hash)?.settled === true || this.sources.some((s) => s.holds?.(hash) === true);
  }

  async read(hash: string, size: number, signal?: AbortSignal, from?: string): Promise<Buffer | undefined> {
    // A reader that caught up with the read-ahead of its file moves it on, so nothing is read twice.
    for (const j of this.jobs) if (j.next < j.blocks.length && j.blocks[j.next].hash === hash) j.next++;
    const a = this.ahead.get(hash);
    if (a !== undefined && a.size === size) {
      if (--a.refs === 0) {
        this.ahead.delete(hash);
        this.aheadBytes -= a.size;
      }
      this.pump(signal);
      const data = await a.data;
      if (data !== undefined && data.length === size && sha256(data) === hash) return data;
    }
    return this.readChain(hash, size, signal, from);
  }

  private async readChain(hash: string, size: number, signal?: AbortSignal, from?: string): Promise<Buffer | undefined> {
    // A block some source already holds costs nothing: no local lookup first.
    let ready: BlockSource | undefined;
    for (const s of this.sources) {
      if (s.holds?.(hash) !== true) continue;
      ready = s;
      throwIfAborted(signal);
      const data = await s.read(hash, size, signal, from);
      if (data !== undefined && data.length === size && sha256(data) === hash) return data;
      break;
    }
    for (const s of this.sources) {
      if (s === ready) continue;
      throwIfAborted(signal);
      const data = await s.read(hash, size, signal, from);
      if (data !== undefined && data.length === size && sha256(data) === hash) return data;
    }
    return undefined;
  }

  /** Starts reads ahead while the bound allows, one block of each file in turn. */
  private pump(signal?: AbortSignal): void {
    this.dropStale();
    while (this.aheadBytes < READ_AHEAD_BYTES && this.jobs.length > 0) {
      this.turn = (this.turn + 1) % this.jobs.length;
      const job = this.jobs[this.turn];
      if (job.next >= job.blocks.length) {
        this.jobs.splice(this.turn, 1);
        continue;
      }
      const b = job.blocks[job.next++];
      const had = this.ahead.get(b.hash);
      if (had !== undefined) {
        had.refs++;
        continue;
      }
      const entry: Ahead = { data: Promise.resolve(undefined), size: b.size, refs: 1, settled: false, at: performance.now() };
      (entry as { data: Promise<Buffer | undefined> }).data = this.readChain(b.hash, b.size, signal, job.from)
        .catch(() => undefined)
        .finally(() => {
          entry.settled = true;
          entry.at = performance.now();
        });
      this.ahead.set(b.hash, entry);
      this.aheadBytes += b.size;
    }
  }

  /** Blocks nobody took long after they arrived: their file's build stopped; so does its read-ahead. */
  private dropStale(): void {
    if (this.aheadBytes < READ_AHEAD_BYTES) return;
    const now = performance.now();
    for (const [hash, a] of this.ahead) {
      if (!a.settled || now - a.at < READ_AHEAD_STALE_MS) continue;
      this.ahead.delete(hash);
      this.aheadBytes -= a.size;
      this.jobs = this.jobs.filter((j) => !j.blocks.some((b) => b.hash === hash));
    }
  }

  private cancel(): void {
    this.jobs = [];
    this.ahead.clear();
    this.aheadBytes = 0;
  }
}
