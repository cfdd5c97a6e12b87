/**
 * Applies one path's winning version to the disk. The rules that keep data safe:
 * - a file is built in `.kinfolder/tmp/`, every block and the whole file hash-checked,
 *   mode and mtime set, fsynced; the rename over the target is the only commit point, so a
 *   crash leaves the old file or the new one there, never a mix;
 * - before the rename the target must be what the scanner last recorded (lstat size, mtime,
 *   inode); anything else is a local edit that nobody has announced yet: it is reported as a
 *   `local-changed` conflict and left alone, for the caller to record first;
 * - the old file is kept as a version (hard link) before the rename replaces it; a delete
 *   moves it there; nothing is unlinked, and only empty directories are removed.
 *
 * After a write, the local index gets the exact lstat of what apply wrote (the scanner's
 * conventions: whole ms, mode & 0o7777, size 0 for dirs and links), so the scanner sees its
 * record match the disk and does not announce the change back.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { contentHashOf, type FileMeta } from '../log';
import { EMPTY_SHA256, hashFile, isScanError, linkEscapes } from '../scan';
import type { BlockIndex, LocalFileRecord, LocalIndexStore } from '../store';
import { sha256, type BlockSource } from './blocks';
import { ApplyError, errnoOf, ioError, isApplyError, throwIfAborted } from './errors';
import { ensureParents, fsyncDir, lstatNowOrUndefined, lstatOrUndefined, safePath } from './safe-path';
import { claimPartial } from './partial';
import { newTempPath, removeQuietly } from './temp';
import type { Committer } from './committer';
import type { EmptyFiles } from './empty-files';
import type { EmptyFileResult } from './empty-files-types';
import type { GroupSync } from './group-sync';
import type { IndexRecorder } from './recorder';
import type { Versions } from './versions';

/** What apply needs of the store: the scanner's records and the block locations. */
export type ApplyLocalIndex = Pick<LocalIndexStore, 'localFile' | 'upsertLocalFiles' | 'deleteLocalFiles'>;
export type ApplyBlockIndex = Pick<BlockIndex, 'addBlockLocations' | 'removeBlockLocations'>;

export interface FileApplyContext {
  readonly root: string;
  /** Folder id: the key of the local index and block index rows. */
  readonly folder: string;
  readonly local: ApplyLocalIndex;
  readonly blockIndex?: ApplyBlockIndex;
  readonly blocks: BlockSource;
  readonly versions: Versions;
  readonly signal?: AbortSignal;
  /** Group commit for index writes (the applier's, shared by the files it writes at once). */
  readonly recorder?: IndexRecorder;
  /**
   * Deferred commits: renames are made durable (one fsync per directory) and recorded in
   * groups by the applier, instead of one directory fsync and one commit per path.
   */
  readonly committer?: Committer;
  /** Paths being written (renamed, not recorded yet): the scanner leaves them alone. */
  readonly writing?: Set<string>;
  /**
   * The local index rows of the run's paths as read at its start (a path absent from the map
   * is queried). A row can only have changed since if the disk changed, which the lstat
   * compared with it shows: a stale row makes apply leave a file alone, never overwrite one.
   */
  readonly known?: ReadonlyMap<string, LocalFileRecord | undefined>;
  /** Directories checked during this run (see SafePathOptions.verified). */
  readonly verified?: Set<string>;
  /** Files made durable by a shared syncfs instead of an fsync each (see GroupSync). */
  readonly groupSync?: GroupSync;
  /** Bytes written so far for the current file (progress display). */
  readonly onBytes?: (bytes: number) => void;
  /** Told of each directory apply made (folder-relative), before anything is written into it: the owner's watcher watches it from then on. */
  readonly onDirMade?: (relPath: string) => void;
  /** New empty files, and small files' temp files where syncs are shared, made on a worker thread (see EmptyFiles); without it, by async calls here. */
  readonly emptyFiles?: EmptyFiles;
}

/** What a row needs of a stat (an fs.Stats, or what the empty-file worker answered). */
export type StatLike = Pick<Stats, 'ino' | 'mode' | 'size' | 'mtimeMs' | 'isFile' | 'isDirectory' | 'isSymbolicLink'>;

/** A local edit that apply refused to overwrite (or delete); the caller records it first. */
export interface LocalChangedConflict {
  readonly kind: 'local-changed';
  readonly path: string;
  /** What the scanner last recorded there (undefined: a file it never saw). */
  readonly recorded?: LocalFileRecord;
}

export type PathOutcome =
  | { readonly kind: 'written'; readonly path: string; readonly version?: string; readonly movedFrom?: string }
  /** The disk already held the winner (a crash after the rename, or the same edit made here). */
  | { readonly kind: 'adopted'; readonly path: string }
  | { readonly kind: 'deleted'; readonly path: string; readonly version?: string }
  /** A directory to delete still holds files nobody has announced: left in place. */
  | { readonly kind: 'kept-not-empty'; readonly path: string }
  /** Nothing to do: the path was already gone from disk and index (a move's source, say). */
  | { readonly kind: 'unchanged'; readonly path: string }
  | { readonly kind: 'conflict'; readonly path: string; readonly conflict: LocalChangedConflict };

/** Mode bits apply writes: no setuid, setgid or sticky bit from a peer. */
export const APPLIED_MODE_MASK = 0o777;

const typeOf = (st: StatLike): LocalFileRecord['type'] | 'other' =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';

/**
 * True when the disk is what the scanner recorded: the scanner's own skip test (type, inode,
 * mode; for files and links also whole-ms mtime, and size for files), so what it would not
 * look at again is exactly what apply may replace.
 */
export function matchesRecord(st: Stats, rec: LocalFileRecord | undefined): boolean {
  if (rec === undefined || typeOf(st) !== rec.type) return false;
  if (st.ino !== rec.inode || (st.mode & 0o7777) !== rec.mode) return false;
  if (rec.type === 'dir') return true;
  return st.ino === rec.inode && Math.floor(st.mtimeMs) === Math.floor(rec.mtimeMs) && (rec.type !== 'file' || st.size === rec.size);
}

/** The local index row for what is on disk now, in the scanner's conventions. */
export function recordOf(folder: string, rel: string, st: StatLike, contentHash: string): LocalFileRecord {
  const type = typeOf(st);
  if (type === 'other') throw new ApplyError('APPLY_IO', `${rel} is not a file, directory or symlink`);
  return { folder, path: rel, size: type === 'file' ? st.size : 0, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, mode: st.mode & 0o7777, contentHash, type };
}

/** What stands at the target compared with the scanner's record (`rec`) and with the winner. */
type TargetState = { rec?: LocalFileRecord } & ({ kind: 'absent' } | { kind: 'known'; st: Stats } | { kind: 'same'; st: Stats } | { kind: 'changed'; st: Stats });

/**
 * `now`: the lstat is a blocking call. A lookup in a directory apply has just written to finds
 * its entries cached; the async call would cost more of the main thread than the lookup.
 */
async function targetState(ctx: FileApplyContext, rel: string, abs: string, meta: FileMeta | undefined, now = false): Promise<TargetState> {
  const st = now ? lstatNowOrUndefined(abs) : await lstatOrUndefined(abs);
  const rec = ctx.known?.has(rel) ? ctx.known.get(rel) : await ctx.local.localFile(ctx.folder, rel);
  if (st === undefined) return { kind: 'absent', rec };
  // A file recorded without a hash was never announced: its bytes are not in any entry yet.
  if (matchesRecord(st, rec) && !(rec?.type === 'file' && rec.contentHash === null)) {
    // The record vouches for the content: no need to read the file.
    return meta !== undefined && rec?.type === meta.type && (meta.type === 'dir' || rec.contentHash === meta.contentHash) ? { kind: 'same', st, rec } : { kind: 'known', st, rec };
  }
  // Unrecorded or different: maybe it already is the winner (a crash after the rename, before the record).
  if (meta !== undefined && (await holdsWinner(abs, st, meta, ctx.signal))) return { kind: 'same', st, rec };
  return { kind: 'changed', st, rec };
}

/** Whether the disk already holds `meta`'s content (checked by hash, never assumed). */
async function holdsWinner(abs: string, st: Stats, meta: FileMeta, signal?: AbortSignal): Promise<boolean> {
  if (typeOf(st) !== meta.type) return false;
  if (meta.type === 'dir') return true;
  if (meta.type === 'symlink') return (await fsp.readlink(abs)) === meta.linkTarget;
  if (st.size !== meta.size) return false;
  try {
    return (await hashFile(abs, { signal })).contentHash === meta.contentHash;
  } catch (e) {
    if (isScanError(e, 'ABORTED')) throw new ApplyError('APPLY_ABORTED', 'apply aborted', { cause: e });
    if (isScanError(e, 'FILE_CHANGED_DURING_SCAN')) return false; // Being edited right now: not ours.
    throw ioError(`cannot read ${abs}`, e);
  }
}

/**
 * Builds `meta`'s content at `tmp` from blocks, verified; returns the built file's stat (what
 * the rename puts in place: rename keeps inode, mode, size and mtime), or throws (tmp left for
 * the caller).
 *
 * Calls that can wait for the disk (create, write, times: each takes a journal handle, which
 * waits while the filesystem commits) go through the thread pool; the stat of the open
 * descriptor and its close never wait, and are blocking calls: an async call costs 5-17 µs of
 * the main thread (measured in a 100k catch-up: its lstat, close and open cost more than the
 * writes). A small file's blocks are read before its temp file is made, so no descriptor is
 * held while a peer sends.
 */
export async function buildFile(
  ctx: Pick<FileApplyContext, 'blocks' | 'signal' | 'onBytes' | 'groupSync' | 'emptyFiles'>,
  tmp: string,
  rel: string,
  meta: FileMeta,
  /** `tmp` is a partial file (see partial.ts): what it holds already is taken where it hashes right. */
  resume = false,
  /** The peer that announced this content (its entry's author): see BlockSource.read. */
  from?: string,
): Promise<StatLike> {
  const small = meta.size <= SMALL_FILE_BYTES;
  const parts: Buffer[] = [];
  if (small) {
    let size = 0;
    if (meta.blocks.length > 0) ctx.blocks.prefetch?.(meta.blocks, ctx.signal, from);
    for (const b of meta.blocks) {
      throwIfAborted(ctx.signal);
      const data = await readBlock(ctx, rel, b, size, from);
      parts.push(data);
      size += data.length;
    }
    checkWhole(rel, meta, size);
    throwIfAborted(ctx.signal);
  }
  // Created with its final mode where the umask keeps it (most files): no chmod needed. A file
  // opened for writing at creation stays writable through this descriptor whatever its mode.
  const mode = meta.mode & APPLIED_MODE_MASK;
  if (small && ctx.emptyFiles !== undefined && ctx.groupSync !== undefined) {
    // Built on the worker with the run's other small files: a message per batch instead of
    // three thread-pool calls per file (each woke a pool thread that took the main thread's core).
    // Handed over in one buffer of its own: a received block is a view of the whole message it
    // came in (about 1 MiB), and a view posted as it is copies all of that to the worker.
    const own = new Uint8Array(new ArrayBuffer(meta.size));
    let at = 0;
    for (const p of parts) {
      own.set(p, at);
      at += p.length;
    }
    const made = await ctx.emptyFiles.make({ path: tmp, mode, chmod: (mode & ~umask()) !== mode, timeSec: utimesSeconds(meta.mtimeMs), data: meta.size > 0 ? [own] : [] }, meta.size > 0 ? [own.buffer] : undefined);
    if (!made.ok) throw errnoError(made);
    if (meta.size > 0) ctx.onBytes?.(meta.size);
    // Durable before the caller renames it into place.
    await ctx.groupSync.wait(ctx.signal);
    return madeStat(made);
  }
  // A partial file is opened as it is (O_NOFOLLOW: never through a link put there); a fresh temp file must be new.
  let h = new Fd(await fsOpen(tmp, resume ? RESUME_FLAGS : 'wx', mode));
  if (resume && !isOwnFile(h.statNow())) {
    // Not a plain file of its own (a hard link to another file, say): never written to; a new one takes its place.
    h.closeNow();
    await fsp.unlink(tmp);
    h = new Fd(await fsOpen(tmp, 'wx', mode));
  }
  let st: Stats;
  try {
    let written = 0;
    let chmod = (mode & ~umask()) !== mode;
    if (small) {
      for (const data of parts) {
        await h.write(data, written);
        written += data.length;
      }
      if (written > 0) ctx.onBytes?.(written);
    } else {
      const was = resume ? h.statNow() : undefined;
      if (was !== undefined) {
        if (was.size > meta.size) await h.truncate(meta.size);
        chmod = (was.mode & APPLIED_MODE_MASK) !== mode;
      }
      written = await fillBlocks(ctx, h, rel, meta, Math.min(was?.size ?? 0, meta.size), from);
      checkWhole(rel, meta, written);
      throwIfAborted(ctx.signal);
    }
    if (chmod) await h.chmod(mode);
    await h.utimes(utimesSeconds(meta.mtimeMs));
    if (ctx.groupSync === undefined) await h.sync();
    st = h.statNow();
  } finally {
    h.closeNow();
  }
  // Durable before the caller renames it into place: a crash then leaves old or new, never a hole.
  if (ctx.groupSync !== undefined) await ctx.groupSync.wait(ctx.signal);
  return st;
}

const isOwnFile = (st: Stats): boolean => st.isFile() && st.nlink === 1;

/** Files up to this size have their blocks read before their temp file is made (see buildFile). */
export const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Bytes of one file's blocks asked for at once. Each is written at its offset as it arrives,
 * in whatever order, so what arrived is on disk (the resume state of a partial file) rather
 * than waiting in memory for the blocks before it; the peers' own windows bound what is really
 * in flight. With the read-ahead (READ_AHEAD_BYTES) this is what a build holds in buffers: at
 * 16 + 32 MiB a receiver building a 128 MiB file from its own blocks peaked at 231 MB RSS, at
 * 8 + 16 MiB at 189 MB (budget 200), with no throughput change measurable here; with the
 * sidecar's 8 MB young generation at 8 + 16 MiB 189-200 MB, at 8 + 8 MiB 175-185 MB (the
 * rebuild took 1.9 s either way).
 */
export const FILL_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Writes `meta`'s blocks into the open temp file; the first `have` bytes are a partial file's,
 * whose blocks are taken where they hash right. Returns the bytes the file holds. A block that
 * arrives is written even when another one fails: the next build finds it there.
 */
async function fillBlocks(ctx: Pick<FileApplyContext, 'blocks' | 'signal' | 'onBytes'>, h: Fd, rel: string, meta: FileMeta, have: number, from: string | undefined): Promise<number> {
  let done = 0;
  const missing: { hash: string; size: number; at: number }[] = [];
  let at = 0;
  for (const b of meta.blocks) {
    throwIfAborted(ctx.signal);
    if (at + b.size <= have && (await h.holds(b, at))) done += b.size;
    else missing.push({ hash: b.hash, size: b.size, at });
    at += b.size;
  }
  if (done > 0) ctx.onBytes?.(done);
  if (missing.length > 1) ctx.blocks.prefetch?.(missing, ctx.signal, from);
  /** Where each block was first asked for: the same block again in this file is copied from there once written. */
  const first = new Map<string, Promise<number | undefined>>();
  const running = new Set<Promise<void>>();
  let asked = 0;
  let failure: unknown;
  for (const b of missing) {
    while (running.size > 0 && asked + b.size > FILL_WINDOW_BYTES && failure === undefined) await Promise.race(running);
    if (failure !== undefined || ctx.signal?.aborted) break;
    const earlier = first.get(b.hash);
    const task = (async (): Promise<number | undefined> => {
      const copyAt = earlier === undefined ? undefined : await earlier;
      const data = (copyAt !== undefined ? await h.blockAt(b, copyAt) : undefined) ?? (await readBlock(ctx, rel, b, b.at, from));
      await h.write(data, b.at);
      done += b.size;
      ctx.onBytes?.(done);
      return b.at;
    })();
    if (earlier === undefined) first.set(b.hash, task.catch(() => undefined));
    asked += b.size;
    const run: Promise<void> = task
      .then(
        () => undefined,
        (e: unknown) => void (failure ??= e),
      )
      .then(() => {
        running.delete(run);
        asked -= b.size;
      });
    running.add(run);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  throwIfAborted(ctx.signal);
  return done;
}

async function readBlock(ctx: Pick<FileApplyContext, 'blocks' | 'signal'>, rel: string, b: { hash: string; size: number }, at: number, from: string | undefined): Promise<Buffer> {
  const data = await ctx.blocks.read(b.hash, b.size, ctx.signal, from);
  if (data === undefined) throw new ApplyError('APPLY_BLOCK_UNAVAILABLE', `${rel}: block ${b.hash} (${b.size} bytes at ${at}) is not available`);
  // Sources are checked here again: the file must not depend on every source being honest.
  if (data.length !== b.size || sha256(data) !== b.hash) throw new ApplyError('APPLY_HASH_MISMATCH', `${rel}: block ${b.hash} at ${at} does not match its hash`);
  return data;
}

function checkWhole(rel: string, meta: FileMeta, written: number): void {
  if (written !== meta.size || contentHashOf(meta.blocks) !== meta.contentHash) {
    throw new ApplyError('APPLY_HASH_MISMATCH', `${rel}: built ${written} bytes that do not hash to the entry's content hash`);
  }
}

const fsOpen = promisify(fs.open);
const fsWrite = promisify(fs.write);
const fsFchmod = promisify(fs.fchmod);
const fsFutimes = promisify(fs.futimes);
const fsFsync = promisify(fs.fsync);
const fsRead = promisify(fs.read);
const fsFtruncate = promisify(fs.ftruncate);
const RESUME_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * A raw descriptor with the calls buildFile makes. fs/promises' FileHandle costs an object
 * with a finalizer per file, which shows when thousands of small files are written.
 */
class Fd {
  private closed = false;
  constructor(private readonly fd: number) {}
  async write(data: Buffer, position: number): Promise<void> {
    for (let off = 0; off < data.length; ) off += (await fsWrite(this.fd, data, off, data.length - off, position + off)).bytesWritten;
  }
  chmod(mode: number): Promise<void> {
    return fsFchmod(this.fd, mode);
  }
  truncate(size: number): Promise<void> {
    return fsFtruncate(this.fd, size);
  }
  /** The block as this file holds it at `at`, if its bytes hash right there; else undefined. */
  async blockAt(b: { hash: string; size: number }, at: number): Promise<Buffer | undefined> {
    const data = Buffer.allocUnsafe(b.size);
    for (let got = 0; got < b.size; ) {
      const { bytesRead } = await fsRead(this.fd, data, got, b.size - got, at + got);
      if (bytesRead === 0) return undefined;
      got += bytesRead;
    }
    return sha256(data) === b.hash ? data : undefined;
  }
  async holds(b: { hash: string; size: number }, at: number): Promise<boolean> {
    return (await this.blockAt(b, at)) !== undefined;
  }
  utimes(seconds: number): Promise<void> {
    return fsFutimes(this.fd, seconds, seconds);
  }
  sync(): Promise<void> {
    return fsFsync(this.fd);
  }
  /** fstat never waits for the disk: a blocking call (see buildFile). */
  statNow(): Stats {
    return fs.fstatSync(this.fd);
  }
  /** Nor does closing a file made here (no truncate-on-close flush): a blocking call. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

let cachedUmask: number | undefined;
/** The process umask, read once (nothing here changes it). */
function umask(): number {
  cachedUmask ??= process.umask();
  return cachedUmask;
}

/** Clears the way for a rename: keeps a file or link as a version, removes an empty directory. */
async function makeRoom(ctx: FileApplyContext, rel: string, abs: string, st: Stats | undefined): Promise<string | undefined> {
  if (st === undefined) return undefined;
  if (st.isDirectory()) {
    try {
      await fsp.rmdir(abs);
      return undefined;
    } catch (e) {
      if (errnoOf(e) === 'ENOTEMPTY' || errnoOf(e) === 'EEXIST') throw new ApplyError('APPLY_NOT_EMPTY', `${rel}: a directory that still holds files stands there`);
      throw ioError(`cannot remove directory ${rel}`, e);
    }
  }
  return ctx.versions.keep(rel, 'link', ctx.signal);
}

/**
 * Records what apply wrote: the index row first (that is what stops a re-announce), then the
 * blocks; `syncDirs` are fsynced first (by the committer, in a group, when there is one), so
 * the row never claims a rename a crash could undo.
 */
async function record(
  ctx: FileApplyContext,
  rel: string,
  abs: string,
  meta: FileMeta,
  createdDirs: readonly string[],
  hadRecord: boolean,
  syncDirs: readonly string[],
  written?: StatLike,
): Promise<void> {
  try {
    await recordRows(ctx, rel, abs, meta, createdDirs, hadRecord, syncDirs, written);
  } catch (e) {
    ctx.writing?.delete(rel);
    throw e;
  }
}

async function recordRows(
  ctx: FileApplyContext,
  rel: string,
  abs: string,
  meta: FileMeta,
  createdDirs: readonly string[],
  hadRecord: boolean,
  syncDirs: readonly string[],
  written?: StatLike,
): Promise<void> {
  // The stat of the file apply itself wrote (its descriptor's), when there is one: should
  // another program replace the file right after the rename, the row still describes ours,
  // and the scanner sees theirs as the change it is.
  const st = written ?? (await fsp.lstat(abs));
  const rows: LocalFileRecord[] = [];
  for (const d of createdDirs) rows.push(recordOf(ctx.folder, d, await fsp.lstat(await safePath(ctx.root, d)), EMPTY_SHA256));
  rows.push(recordOf(ctx.folder, rel, st, meta.contentHash));
  // A path the index never held has no locations to forget: one transaction saved per new file.
  // Forgotten before the new row lands, so a reader never pairs the new record with old blocks.
  if (hadRecord) await ctx.blockIndex?.removeBlockLocations(ctx.folder, rel);
  let offset = 0;
  const locations = ctx.blockIndex && meta.type === 'file' ? meta.blocks.map((b) => ({ hash: b.hash, size: b.size, folder: ctx.folder, path: rel, offset: (offset += b.size) - b.size })) : [];
  if (ctx.committer) {
    ctx.committer.add(syncDirs, rows, locations, [rel]);
    return;
  }
  try {
    for (const d of new Set(syncDirs)) await fsyncDir(d);
    if (ctx.recorder) return await ctx.recorder.write(rows, locations);
    await ctx.local.upsertLocalFiles(rows);
    if (locations.length > 0) await ctx.blockIndex?.addBlockLocations(locations);
  } finally {
    ctx.writing?.delete(rel);
  }
}

const conflict = (rel: string, rec?: LocalFileRecord): PathOutcome => ({ kind: 'conflict', path: rel, conflict: { kind: 'local-changed', path: rel, recorded: rec } });

/**
 * utimes takes seconds as a double; 1600000000.123 lands a hair below .123 in nanoseconds and
 * reads back as ...122 ms. Half a millisecond on top makes the whole-ms value read back exactly.
 */
export const utimesSeconds = (ms: number): number => (ms + 0.5) / 1000;

/**
 * Puts `meta` at `rel`. `moveFrom`: the winner is a move from there; when that file is
 * unchanged and holds the content, it is renamed instead of rebuilt. `from`: the entry's
 * author, asked for its blocks first (see BlockSource.read).
 */
export function applyPut(ctx: FileApplyContext, rel: string, meta: FileMeta, moveFrom?: string, from?: string): Promise<PathOutcome> {
  return fsErrorsAsApply(`cannot write ${rel}`, () => put(ctx, rel, meta, moveFrom, from));
}

/**
 * A filesystem error (errno) becomes APPLY_IO for that path, so the run reports it and goes
 * on; anything else (a store error, a bug) still stops the run.
 */
async function fsErrorsAsApply<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ApplyError) throw e;
    if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') throw ioError(what, e);
    throw e;
  }
}

async function put(ctx: FileApplyContext, rel: string, meta: FileMeta, moveFrom: string | undefined, from: string | undefined): Promise<PathOutcome> {
  throwIfAborted(ctx.signal);
  const abs = await safePath(ctx.root, rel, { verified: ctx.verified });
  if (meta.type === 'symlink' && (meta.linkTarget === undefined || linkEscapes(rel, meta.linkTarget))) {
    throw new ApplyError('APPLY_UNSAFE_PATH', `refusing ${JSON.stringify(rel)}: link target ${JSON.stringify(meta.linkTarget)} leaves the folder`);
  }
  if (meta.type === 'symlink' && sha256(Buffer.from(meta.linkTarget as string, 'utf8')) !== meta.contentHash) {
    throw new ApplyError('APPLY_HASH_MISMATCH', `${rel}: link target does not hash to the entry's content hash`);
  }
  // A new file (no row at the start of the run): almost always nothing stands there, so the
  // one check is the one right before the rename, which also adopts the winner if it is there.
  const unrecorded = meta.type === 'file' && moveFrom === undefined && ctx.known?.has(rel) === true && ctx.known.get(rel) === undefined;
  const before: TargetState = unrecorded ? { kind: 'absent' } : await targetState(ctx, rel, abs, meta);
  if (before.kind === 'same') {
    await fixMeta(abs, before.st, meta);
    await record(ctx, rel, abs, meta, [], true, []);
    return { kind: 'adopted', path: rel };
  }
  if (before.kind === 'changed') return conflict(rel, before.rec);
  if (meta.type === 'dir') return putDir(ctx, rel, abs, meta, before);

  if (unrecorded && meta.size === 0 && meta.blocks.length === 0) {
    const made = await putEmpty(ctx, rel, abs, meta);
    if (made) return made;
  }
  if (moveFrom !== undefined && meta.type === 'file') {
    const moved = await tryMove(ctx, moveFrom, rel, abs, meta);
    if (moved) return moved;
  }
  // A file too big to fetch again lightly is built where a cut build can resume (see partial.ts).
  const partial = meta.type === 'file' && meta.size > SMALL_FILE_BYTES ? await claimPartial(ctx.root, rel, meta.contentHash, ctx.verified) : undefined;
  const tmp = partial?.path ?? (await newTempPath(ctx.root, ctx.verified));
  let built: StatLike | undefined;
  let renamed = false;
  try {
    if (meta.type === 'symlink') await fsp.symlink(meta.linkTarget as string, tmp);
    else {
      try {
        built = await buildFile(ctx, tmp, rel, meta, partial !== undefined, from);
      } catch (e) {
        // Without its blocks, a new file can still be there already (renamed in before a crash).
        if (!unrecorded || !isApplyError(e, 'APPLY_BLOCK_UNAVAILABLE')) throw e;
        const there = await targetState(ctx, rel, abs, meta);
        if (there.kind !== 'same') throw e;
        await fixMeta(abs, there.st, meta);
        // Durable before it is claimed: the rename that put it there may not be yet.
        await record(ctx, rel, abs, meta, [], false, [path.dirname(abs)]);
        return { kind: 'adopted', path: rel };
      }
    }
    throwIfAborted(ctx.signal);
    const created = await ensureParents(ctx.root, rel, { signal: ctx.signal, verified: ctx.verified });
    madeDirs(ctx, created);
    if (unrecorded && built !== undefined && ctx.emptyFiles !== undefined && ctx.committer !== undefined) {
      // A new file where almost always nothing stands: the check and the rename on the worker.
      ctx.writing?.add(rel);
      const placed = await ctx.emptyFiles.place(tmp, abs);
      if (placed.ok) {
        renamed = true;
        await record(ctx, rel, abs, meta, created, false, syncDirsOf(ctx.root, abs, created), built);
        return { kind: 'written', path: rel };
      }
      ctx.writing?.delete(rel);
      // Something stands there: judged below, as for any file.
      if (placed.code !== 'EEXIST') throw errnoError(placed);
    }
    // Checked again right before the commit: the build may have taken a while.
    const now = await targetState(ctx, rel, abs, unrecorded ? meta : undefined, ctx.committer !== undefined);
    if (now.kind === 'same') {
      await fixMeta(abs, now.st, meta);
      await record(ctx, rel, abs, meta, created, now.rec !== undefined, syncDirsOf(ctx.root, abs, created));
      return { kind: 'adopted', path: rel };
    }
    if (now.kind === 'changed') return conflict(rel, now.rec);
    const version = await makeRoom(ctx, rel, abs, now.kind === 'known' ? now.st : undefined);
    ctx.writing?.add(rel);
    try {
      await fsp.rename(tmp, abs);
    } catch (e) {
      ctx.writing?.delete(rel);
      throw e;
    }
    renamed = true;
    await record(ctx, rel, abs, meta, created, now.rec !== undefined, syncDirsOf(ctx.root, abs, created), built);
    return { kind: 'written', path: rel, version };
  } finally {
    // A partial file whose build was cut keeps what arrived for the next build.
    if (!renamed && (partial === undefined || built !== undefined)) await removeQuietly(tmp);
    partial?.release();
  }
}

const EMPTY_CONTENT_HASH = contentHashOf([]);

/**
 * A new empty file is made at its name at once: with no bytes there is nothing to tear and
 * nothing to make durable before it shows, so the temp file, its sync and the rename (most of
 * what a 100k-file catch-up of empty files cost) are skipped. O_EXCL: whatever stands there (a
 * file made here that nobody recorded) is left to the general path, which judges it; undefined
 * then. Its row waits for the directory's sync like any other (the committer's), and a crash
 * before the row leaves an empty file that the next apply adopts by its hash.
 */
async function putEmpty(ctx: FileApplyContext, rel: string, abs: string, meta: FileMeta): Promise<PathOutcome | undefined> {
  // An entry claiming no bytes with another content hash is refused by the general path.
  if (meta.contentHash !== EMPTY_CONTENT_HASH) return undefined;
  throwIfAborted(ctx.signal);
  const created = await ensureParents(ctx.root, rel, { signal: ctx.signal, verified: ctx.verified });
  madeDirs(ctx, created);
  const mode = meta.mode & APPLIED_MODE_MASK;
  ctx.writing?.add(rel);
  if (ctx.emptyFiles !== undefined) {
    const made = await ctx.emptyFiles.make({ path: abs, mode, chmod: (mode & ~umask()) !== mode, timeSec: utimesSeconds(meta.mtimeMs) });
    if (!made.ok) {
      ctx.writing?.delete(rel);
      if (made.code === 'EEXIST') return undefined;
      throw errnoError(made);
    }
    await record(ctx, rel, abs, meta, created, false, syncDirsOf(ctx.root, abs, created), madeStat(made));
    return { kind: 'written', path: rel };
  }
  let fd: Fd;
  try {
    fd = new Fd(await fsOpen(abs, 'wx', mode));
  } catch (e) {
    ctx.writing?.delete(rel);
    if (errnoOf(e) === 'EEXIST') return undefined;
    throw e;
  }
  // The row comes from the descriptor's stat (see buildFile): no lstat after.
  let st: Stats;
  try {
    try {
      if ((mode & ~umask()) !== mode) await fd.chmod(mode);
      await fd.utimes(utimesSeconds(meta.mtimeMs));
      st = fd.statNow();
    } finally {
      fd.closeNow();
    }
  } catch (e) {
    // Made by us a moment ago (O_EXCL): taken back rather than left for the scanner to announce.
    await fsp.unlink(abs).catch(() => undefined);
    ctx.writing?.delete(rel);
    throw e;
  }
  await record(ctx, rel, abs, meta, created, false, syncDirsOf(ctx.root, abs, created), st);
  return { kind: 'written', path: rel };
}

// Shared by every stat the worker answered: three closures per small file were garbage.
const yes = (): boolean => true;
const no = (): boolean => false;

/** The worker's answer as the stat of the regular file it made. */
function madeStat(m: Extract<EmptyFileResult, { ok: true }>): StatLike {
  return { ino: m.ino, mode: m.mode, size: m.size, mtimeMs: m.mtimeMs, isFile: yes, isDirectory: no, isSymbolicLink: no };
}

/** The worker's failure as the errno error a call here would have thrown (fsErrorsAsApply makes it APPLY_IO). */
function errnoError(m: Extract<EmptyFileResult, { ok: false }>): Error {
  return Object.assign(new Error(m.message), { code: m.code, syscall: m.syscall ?? 'open' });
}

function madeDirs(ctx: FileApplyContext, created: readonly string[]): void {
  if (ctx.onDirMade !== undefined) for (const d of created) ctx.onDirMade(d);
}

/** The directories whose fsync makes a rename at `abs` (and the directories created for it) durable. */
function syncDirsOf(root: string, abs: string, created: readonly string[]): string[] {
  const out = [path.dirname(abs)];
  for (const d of created) out.push(path.dirname(path.join(root, ...d.split('/'))));
  return out;
}

async function putDir(ctx: FileApplyContext, rel: string, abs: string, meta: FileMeta, before: TargetState): Promise<PathOutcome> {
  const created = await ensureParents(ctx.root, rel, { signal: ctx.signal });
  madeDirs(ctx, created);
  let version: string | undefined;
  // A known file or link stands where the directory goes: it becomes a version.
  if (before.kind === 'known') version = await ctx.versions.keep(rel, 'move', ctx.signal);
  ctx.writing?.add(rel);
  try {
    await fsp.mkdir(abs, { mode: meta.mode & APPLIED_MODE_MASK });
  } catch (e) {
    ctx.writing?.delete(rel);
    throw e;
  }
  ctx.verified?.add(rel);
  ctx.onDirMade?.(rel);
  await record(ctx, rel, abs, meta, created, before.rec !== undefined, syncDirsOf(ctx.root, abs, created));
  return { kind: 'written', path: rel, version };
}

/** Renames `from` to `rel` when `from` is unchanged since its scan and holds the content; undefined otherwise. */
async function tryMove(ctx: FileApplyContext, from: string, rel: string, abs: string, meta: FileMeta): Promise<PathOutcome | undefined> {
  const fromAbs = await safePath(ctx.root, from);
  const st = await lstatOrUndefined(fromAbs);
  const rec = await ctx.local.localFile(ctx.folder, from);
  if (st === undefined || !matchesRecord(st, rec) || rec?.type !== 'file' || rec.contentHash !== meta.contentHash) return undefined;
  const created = await ensureParents(ctx.root, rel, { signal: ctx.signal });
  madeDirs(ctx, created);
  const now = await targetState(ctx, rel, abs, undefined);
  if (now.kind === 'changed') return conflict(rel, now.rec);
  const version = await makeRoom(ctx, rel, abs, now.kind === 'known' ? now.st : undefined);
  ctx.writing?.add(from);
  try {
    ctx.writing?.add(rel);
    await fsp.rename(fromAbs, abs);
    await fixMeta(abs, st, meta);
    await record(ctx, rel, abs, meta, created, true, path.dirname(fromAbs) !== path.dirname(abs) ? [path.dirname(abs), path.dirname(fromAbs)] : [path.dirname(abs)]);
    await ctx.local.deleteLocalFiles(ctx.folder, [from]);
    await ctx.blockIndex?.removeBlockLocations(ctx.folder, from);
  } finally {
    ctx.writing?.delete(from);
  }
  return { kind: 'written', path: rel, version, movedFrom: from };
}

/** Sets mode and mtime on content that is already right (adopted or moved). */
async function fixMeta(abs: string, st: Stats, meta: FileMeta): Promise<void> {
  if (meta.type !== 'file') return;
  if ((st.mode & APPLIED_MODE_MASK) !== (meta.mode & APPLIED_MODE_MASK)) await fsp.chmod(abs, meta.mode & APPLIED_MODE_MASK);
  if (Math.floor(st.mtimeMs) !== meta.mtimeMs) await fsp.utimes(abs, utimesSeconds(meta.mtimeMs), utimesSeconds(meta.mtimeMs));
}

/** Applies a winning deletion: the file goes to versions, an empty directory is removed. */
export function applyDelete(ctx: FileApplyContext, rel: string): Promise<PathOutcome> {
  return fsErrorsAsApply(`cannot delete ${rel}`, () => remove(ctx, rel));
}

async function remove(ctx: FileApplyContext, rel: string): Promise<PathOutcome> {
  throwIfAborted(ctx.signal);
  const abs = await safePath(ctx.root, rel);
  const st = await lstatOrUndefined(abs);
  const rec = await ctx.local.localFile(ctx.folder, rel);
  const forget = async (): Promise<void> => {
    await ctx.local.deleteLocalFiles(ctx.folder, [rel]);
    await ctx.blockIndex?.removeBlockLocations(ctx.folder, rel);
  };
  if (st === undefined) {
    if (rec === undefined) return { kind: 'unchanged', path: rel };
    await forget();
    return { kind: 'deleted', path: rel };
  }
  if (!matchesRecord(st, rec)) return conflict(rel, rec);
  ctx.writing?.add(rel);
  try {
    if (st.isDirectory()) {
      try {
        await fsp.rmdir(abs);
      } catch (e) {
        if (errnoOf(e) === 'ENOTEMPTY' || errnoOf(e) === 'EEXIST') return { kind: 'kept-not-empty', path: rel };
        throw e;
      }
      await fsyncDir(path.dirname(abs));
      await forget();
      return { kind: 'deleted', path: rel };
    }
    const version = await ctx.versions.keep(rel, 'move', ctx.signal);
    await fsyncDir(path.dirname(abs));
    await forget();
    return { kind: 'deleted', path: rel, version };
  } finally {
    ctx.writing?.delete(rel);
  }
}
