/**
 * Hashes one regular file from disk into blocks, in constant memory: large reads into one
 * reused buffer (the chunker hashes each piece before the next read overwrites it), the
 * AbortSignal checked per read, and a stat before and after so a file that moved underneath
 * us is reported (FILE_CHANGED_DURING_SCAN) instead of being given a hash it never had.
 */
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import { BlockChunker, type ChunkerOptions } from './chunker';
import { ScanError, throwIfAborted } from './errors';
import type { HashedContent } from './types';

/** 2 MiB: big enough that syscalls are noise next to hashing, small enough to stay in L2/L3. */
export const READ_SIZE = 2 * 1024 * 1024;

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

/** The function shape the walk depends on, so tests and worker pools can stand in for it. */
export type HashFileFn = (absPath: string, options: { signal?: AbortSignal }) => Promise<HashedFile>;

export async function hashFile(absPath: string, options: HashFileOptions = {}): Promise<HashedFile> {
  const { signal } = options;
  throwIfAborted(signal);
  let handle: fsp.FileHandle;
  try {
    // O_NOFOLLOW: a path that became a symlink since the walk's lstat must not lead us outside the folder;
    // O_NONBLOCK: one that became a FIFO must not hang the scan in open().
    handle = await fsp.open(absPath, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new ScanError('NOT_A_REGULAR_FILE', `${absPath} is a symlink`, { cause: e });
    if (code === 'ENOENT') throw new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} disappeared before it could be hashed`, { cause: e });
    throw ioError(`cannot open ${absPath}`, e);
  }
  try {
    const before = await statOf(() => handle.stat(), absPath);
    if (!before.isFile()) throw new ScanError('NOT_A_REGULAR_FILE', `${absPath} is not a regular file`);
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
    }
    throwIfAborted(signal);
    const content = chunker.finish();
    // Compare against the path too, not only the handle: a rename-over replaces the inode
    // at the path while our handle keeps reading the old one.
    const after = await statOf(() => fsp.lstat(absPath), absPath);
    const changed =
      content.size !== before.size ||
      !sameStat(before, after) ||
      !sameStat(before, await statOf(() => handle.stat(), absPath));
    if (changed) throw new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} changed while it was being hashed`);
    return { ...content, mtimeMs: Math.floor(before.mtimeMs), inode: before.ino, mode: before.mode & 0o7777 };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function sameStat(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

async function statOf(f: () => Promise<Stats>, absPath: string): Promise<Stats> {
  try {
    return await f();
  } catch (e) {
    // The path vanished or was replaced mid-hash: the caller's retry will see what is there now.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ScanError('FILE_CHANGED_DURING_SCAN', `${absPath} disappeared while it was being hashed`, { cause: e });
    }
    throw ioError(`cannot stat ${absPath}`, e);
  }
}

function ioError(message: string, cause: unknown): ScanError {
  if (cause instanceof ScanError) return cause;
  return new ScanError('IO_ERROR', `${message}: ${(cause as Error).message}`, { cause });
}
