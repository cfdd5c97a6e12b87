/**
 * Hashes one regular file from disk into blocks, in constant memory: large reads into one
 * reused buffer (the chunker hashes each piece before the next read overwrites it), the
 * AbortSignal checked per read, and a stat before and after so a file that moved underneath
 * us is reported (FILE_CHANGED_DURING_SCAN) instead of being given a hash it never had.
 *
 * Small files are read synchronously (`hashFileAuto`): a few syscalls of microseconds each,
 * where the thread-pool round trips of the async API cost several times more than the work.
 */
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, promises as fsp, readSync, type Stats } from 'node:fs';
import { BlockChunker, type ChunkerOptions } from './chunker';
import { ScanError, throwIfAborted } from './errors';
import type { HashedContent } from './types';

/** 2 MiB: big enough that syscalls are noise next to hashing, small enough to stay in cache. */
export const READ_SIZE = 2 * 1024 * 1024;

/** Files below this are read with blocking calls by `hashFileAuto` (at most ~0.2 ms of blocking each). */
export const SYNC_READ_BELOW = 256 * 1024;

// O_NOFOLLOW: a path that became a symlink since the walk's lstat must not lead us outside the
// folder; O_NONBLOCK: one that became a FIFO must not hang the scan in open().
const OPEN_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

export interface HashedFile extends HashedContent {
  /** The stat the hash belongs to (checked unchanged after hashing). */
  readonly mtimeMs: number;
  readonly inode: number;
  readonly mode: number;
}

export interface HashFileOptions {
  readonly signal?: AbortSignal;
  readonly chunker?: ChunkerOptions;
  /** Reuse a caller-owned read buffer (one per concurrent hash); allocated per call otherwise. */
  readonly buffer?: Buffer;
  /** Called after each read with the bytes hashed so far (progress display). */
  readonly onProgress?: (bytesHashed: number) => void;
}

/**
 * The function shape the walk depends on, so tests and worker pools can stand in for it.
 * `sizeHint` is the size the walk saw (lets an implementation pick its way to read).
 */
export type HashFileFn = (absPath: string, options: { signal?: AbortSignal; sizeHint?: number; chunker?: ChunkerOptions }) => Promise<HashedFile>;

export async function hashFile(absPath: string, options: HashFileOptions = {}): Promise<HashedFile> {
  const { signal } = options;
  throwIfAborted(signal);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(absPath, OPEN_FLAGS);
  } catch (e) {
    throw openError(absPath, e);
  }
  try {
    const before = checkRegular(await statOf(() => handle.stat(), absPath), absPath);
    const buffer = options.buffer ?? Buffer.allocUnsafe(READ_SIZE);
    const chunker = new BlockChunker(options.chunker);
    let hashed = 0;
    for (;;) {
      throwIfAborted(signal);
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buffer, 0, buffer.length, null));
      } catch (e) {
        throw ioError(`cannot read ${absPath}`, e);
      }
      if (n === 0) break;
      chunker.update(buffer.subarray(0, n));
      hashed += n;
      options.onProgress?.(hashed);
      // A short read of a regular file is its end; a file still growing shows in the stat below.
      // Saves a read per small file, which is most of a small file's cost.
      if (n < buffer.length && hashed >= before.size) break;
    }
    throwIfAborted(signal);
    const content = chunker.finish();
    return verified(absPath, before, await statOf(() => fsp.lstat(absPath), absPath), content);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** One read buffer per thread for the blocking path: nothing else can run while it is in use. */
let syncScratch: Buffer | undefined;

/** The same as hashFile with blocking calls: for small files, or inside a worker thread. */
export function hashFileSync(absPath: string, options: Omit<HashFileOptions, 'onProgress'> = {}): HashedFile {
  throwIfAborted(options.signal);
  let fd: number;
  try {
    fd = openSync(absPath, OPEN_FLAGS);
  } catch (e) {
    throw openError(absPath, e);
  }
  try {
    const before = checkRegular(statOfSync(() => fstatSync(fd), absPath), absPath);
    const buffer = options.buffer ?? (syncScratch ??= Buffer.allocUnsafeSlow(READ_SIZE));
    const chunker = new BlockChunker(options.chunker);
    let hashed = 0;
    for (;;) {
      throwIfAborted(options.signal);
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (e) {
        throw ioError(`cannot read ${absPath}`, e);
      }
      if (n === 0) break;
      chunker.update(buffer.subarray(0, n));
      hashed += n;
      if (n < buffer.length && hashed >= before.size) break;
    }
    const content = chunker.finish();
    return verified(absPath, before, statOfSync(() => lstatSync(absPath), absPath), content);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Closing a read-only descriptor cannot lose data; nothing to report.
    }
  }
}

/** Small files (by the caller's sizeHint) synchronously, the rest with async reads. */
export const hashFileAuto: HashFileFn = (absPath, options) => {
  if (options.sizeHint !== undefined && options.sizeHint < SYNC_READ_BELOW) {
    try {
      return Promise.resolve(hashFileSync(absPath, { signal: options.signal, chunker: options.chunker }));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return hashFile(absPath, { signal: options.signal, chunker: options.chunker });
};

function checkRegular(st: Stats, absPath: string): Stats {
  if (!st.isFile()) throw new ScanError('NOT_A_REGULAR_FILE', `${absPath} is not a regular file`);
  return st;
}

/**
 * `after` is a stat of the path, not the handle: that also catches a rename-over, which
 * replaces the inode at the path while our handle keeps reading the old one. Same inode at
 * the path means the same stat as the handle's, so one call covers both.
 */
function verified(absPath: string, before: Stats, after: Stats, content: HashedContent): HashedFile {
  const same = before.size === after.size && before.mtimeMs === after.mtimeMs && before.ino === after.ino && before.dev === after.dev;
  if (!same || content.size !== before.size) {
    throw new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} changed while it was being hashed`);
  }
  return { ...content, mtimeMs: Math.floor(before.mtimeMs), inode: before.ino, mode: before.mode & 0o7777 };
}

function openError(absPath: string, e: unknown): ScanError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new ScanError('NOT_A_REGULAR_FILE', `${absPath} is a symlink`, { cause: e });
  if (code === 'ENOENT') return new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} disappeared before it could be hashed`, { cause: e });
  return ioError(`cannot open ${absPath}`, e);
}

function statError(absPath: string, e: unknown): ScanError {
  // The path vanished or was replaced mid-hash: the caller's retry will see what is there now.
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} disappeared while it was being hashed`, { cause: e });
  }
  return ioError(`cannot stat ${absPath}`, e);
}

async function statOf(f: () => Promise<Stats>, absPath: string): Promise<Stats> {
  try {
    return await f();
  } catch (e) {
    throw statError(absPath, e);
  }
}

function statOfSync(f: () => Stats, absPath: string): Stats {
  try {
    return f();
  } catch (e) {
    throw statError(absPath, e);
  }
}

function ioError(message: string, cause: unknown): ScanError {
  if (cause instanceof ScanError) return cause;
  return new ScanError('IO_ERROR', `${message}: ${(cause as Error).message}`, { cause });
}
