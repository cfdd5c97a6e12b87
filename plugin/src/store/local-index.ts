/** The scanner's index of this node's disk: what it last saw at each path. */
import { chunks, inList, insertChunks, valuesList } from './batch-sql';
import { checkSeq, checkText } from './codec';
import type { StoreContext, StreamOptions } from './context';
import { StoreError } from './errors';
import type { LocalFileRecord, LocalFileType } from './records';

export interface LocalIndexStore {
  /** Inserts or replaces rows by (folder, path), all in one transaction. */
  upsertLocalFiles(files: readonly LocalFileRecord[]): Promise<void>;
  localFile(folder: string, path: string): Promise<LocalFileRecord | undefined>;
  /** The rows of these paths (one query per few hundred paths); a path without a row is absent from the map. */
  localFilesAt(folder: string, paths: readonly string[]): Promise<Map<string, LocalFileRecord>>;
  /** Removes rows; paths not present are ignored. Returns how many were removed. */
  deleteLocalFiles(folder: string, paths: readonly string[]): Promise<number>;
  /** Every row of the folder in path order, fetched page by page. */
  localFiles(folder: string, options?: StreamOptions): AsyncIterableIterator<LocalFileRecord>;
}

interface LocalRow {
  path: string;
  size: number;
  mtime_ms: number;
  inode: number;
  mode: number;
  content_hash: string | null;
  type: LocalFileType;
}

const COLUMNS = 'path, size, mtime_ms, inode, mode, content_hash, type';

/**
 * Rows written lately, kept as committed (newest last). What apply records is looked at again
 * moments later, when the watcher's events for its own writes come back (two per file): those
 * reads were most of the local index's queries in a catch-up (~200 IN queries per 20k files).
 * A row leaves the cache before its change is written and comes back once it is committed, so
 * a read in between goes to the table, as it did without the cache.
 */
const RECENT_ROWS = 8192;

/**
 * Two generations of RECENT_ROWS / 2 (per folder): a full young one becomes the old one, the old one goes.
 * One Map evicting its oldest key per insert is slow in V8: deleted keys stay at the front
 * until the next rehash and every `keys().next()` walks over them (0.8 s per 100k rows).
 */
class RecentRows {
  private young = new Map<string, LocalFileRecord>();
  private old = new Map<string, LocalFileRecord>();

  get(k: string): LocalFileRecord | undefined {
    return this.young.get(k) ?? this.old.get(k);
  }

  set(k: string, r: LocalFileRecord): void {
    this.old.delete(k);
    this.young.set(k, r);
    if (this.young.size >= RECENT_ROWS / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(k: string): void {
    this.young.delete(k);
    this.old.delete(k);
  }
}
const TYPES = new Set<LocalFileType>(['file', 'dir', 'symlink']);

/** `forgetRecent` drops the cached rows of a folder whose rows were removed (see forgetFolder). */
export function localIndexStore(ctx: StoreContext): LocalIndexStore & { forgetRecent(folder: string): void } {
  const { writer, reader, folders } = ctx;
  // Per folder, keyed by path: a path string keeps its hash, a joined key was hashed anew per use.
  const byFolder = new Map<string, RecentRows>();
  const recentOf = (folder: string): RecentRows => {
    let r = byFolder.get(folder);
    if (r === undefined) byFolder.set(folder, (r = new RecentRows()));
    return r;
  };
  const remember = (r: LocalFileRecord): void => recentOf(r.folder).set(r.path, copy(r));

  async function upsertLocalFiles(files: readonly LocalFileRecord[]): Promise<void> {
    if (files.length === 0) return;
    const rows = files.map((f) => {
      if (!TYPES.has(f.type)) throw new StoreError('STORE_INVALID_ARGUMENT', `local file ${f.path}: unknown type ${String(f.type)}`);
      if (typeof f.mtimeMs !== 'number' || !Number.isFinite(f.mtimeMs)) throw new StoreError('STORE_INVALID_ARGUMENT', `local file ${f.path}: bad mtimeMs`);
      return [
        checkText(f.folder, 'localFile.folder'),
        checkText(f.path, 'localFile.path'),
        checkSeq(f.size, 'localFile.size'),
        f.mtimeMs,
        checkSeq(f.inode, 'localFile.inode'),
        checkSeq(f.mode, 'localFile.mode'),
        f.contentHash,
        f.type,
      ];
    });
    for (const f of files) byFolder.get(f.folder)?.delete(f.path);
    await writer.transaction(async (tx) => {
      const ids = await folders.ensureIn(tx, files.map((f) => f.folder));
      for (const r of rows) r[0] = ids.get(r[0] as string)!;
      await insertChunks(
        tx,
        rows,
        (n) => `INSERT INTO local_files(folder_id, ${COLUMNS}) VALUES ${valuesList(n, 8)}
                ON CONFLICT(folder_id, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, inode = excluded.inode,
                  mode = excluded.mode, content_hash = excluded.content_hash, type = excluded.type`,
      );
    });
    // The last row given for a path is the one the statement kept.
    for (const f of files) remember(f);
  }

  async function localFile(folder: string, path: string): Promise<LocalFileRecord | undefined> {
    const hit = byFolder.get(folder)?.get(path);
    if (hit !== undefined) return copy(hit);
    const fid = await folders.lookup(folder);
    if (fid === undefined) return undefined;
    const r = await reader.get<LocalRow>(`SELECT ${COLUMNS} FROM local_files WHERE folder_id = ? AND path = ?`, [fid, path]);
    return r && toLocal(folder, r);
  }

  async function localFilesAt(folder: string, paths: readonly string[]): Promise<Map<string, LocalFileRecord>> {
    const out = new Map<string, LocalFileRecord>();
    if (paths.length === 0) return out;
    const misses: string[] = [];
    const recent = byFolder.get(folder);
    for (const p of new Set(paths)) {
      const hit = recent?.get(p);
      if (hit !== undefined) out.set(p, copy(hit));
      else misses.push(p);
    }
    if (misses.length === 0) return out;
    const fid = await folders.lookup(folder);
    if (fid === undefined) return out;
    for (const chunk of chunks(misses)) {
      const rows = await reader.all<LocalRow>(`SELECT ${COLUMNS} FROM local_files WHERE folder_id = ? AND path IN (${inList(chunk.length)})`, [fid, ...chunk]);
      for (const r of rows) out.set(r.path, toLocal(folder, r));
    }
    return out;
  }

  async function deleteLocalFiles(folder: string, paths: readonly string[]): Promise<number> {
    if (paths.length === 0) return 0;
    const recent = byFolder.get(folder);
    if (recent !== undefined) for (const p of paths) recent.delete(p);
    return writer.transaction(async (tx) => {
      const fid = await folders.lookupIn(tx, folder);
      if (fid === undefined) return 0;
      let removed = 0;
      for (const chunk of chunks(paths)) {
        removed += (await tx.run(`DELETE FROM local_files WHERE folder_id = ? AND path IN (${inList(chunk.length)})`, [fid, ...chunk])).changes;
      }
      return removed;
    });
  }

  async function* localFiles(folder: string, options: StreamOptions = {}): AsyncIterableIterator<LocalFileRecord> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return;
    const rows = reader.each<LocalRow>(
      (after, limit) =>
        after
          ? [`SELECT ${COLUMNS} FROM local_files WHERE folder_id = ? AND path > ? ORDER BY path LIMIT ?`, [fid, after.path, limit]]
          : [`SELECT ${COLUMNS} FROM local_files WHERE folder_id = ? ORDER BY path LIMIT ?`, [fid, limit]],
      { pageSize: options.pageSize ?? ctx.pageSize, signal: options.signal },
    );
    for await (const r of rows) yield toLocal(folder, r);
  }

  const forgetRecent = (folder: string): void => void byFolder.delete(folder);

  return { upsertLocalFiles, localFile, localFilesAt, deleteLocalFiles, localFiles, forgetRecent };
}

function copy(r: LocalFileRecord): LocalFileRecord {
  return { folder: r.folder, path: r.path, size: r.size, mtimeMs: r.mtimeMs, inode: r.inode, mode: r.mode, contentHash: r.contentHash, type: r.type };
}

function toLocal(folder: string, r: LocalRow): LocalFileRecord {
  return {
    folder,
    path: r.path,
    size: r.size,
    mtimeMs: r.mtime_ms,
    inode: r.inode,
    mode: r.mode,
    contentHash: r.content_hash,
    type: r.type,
  };
}
