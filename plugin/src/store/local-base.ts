/** Per local path, the entries the file on disk is based on (see migration 002). */
import { chunks, inList, insertChunks, valuesList } from './batch-sql';
import { checkText } from './codec';
import type { StoreContext } from './context';
import { StoreError } from './errors';

export interface LocalBaseRecord {
  readonly path: string;
  /** Entry hashes (lower-case hex) the local file corresponds to. */
  readonly hashes: readonly string[];
}

export interface LocalBaseStore {
  /** Inserts or replaces the base of these paths of one folder, in one transaction. */
  setLocalBases(folder: string, bases: readonly LocalBaseRecord[]): Promise<void>;
  /** The base of a path, or undefined when none was recorded. */
  localBase(folder: string, path: string): Promise<string[] | undefined>;
  /** The bases of these paths (a few queries); a path without one is absent from the map. */
  localBasesAt(folder: string, paths: readonly string[]): Promise<Map<string, string[]>>;
  /** Forgets the base of these paths; returns how many rows went. */
  deleteLocalBases(folder: string, paths: readonly string[]): Promise<number>;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function localBaseStore(ctx: StoreContext): LocalBaseStore {
  const { writer, reader, folders } = ctx;

  async function setLocalBases(folder: string, bases: readonly LocalBaseRecord[]): Promise<void> {
    if (bases.length === 0) return;
    checkText(folder, 'localBase.folder');
    // One statement may not touch a row twice: the last base given for a path wins.
    const last = new Map(bases.map((b) => [checkText(b.path, 'localBase.path'), b.hashes]));
    const rows: unknown[][] = [];
    for (const [p, hashes] of last) {
      for (const h of hashes) if (!HEX64.test(h)) throw new StoreError('STORE_INVALID_ARGUMENT', `local base of ${p}: ${JSON.stringify(h)} is not a hash`);
      rows.push([0, p, JSON.stringify([...hashes])]);
    }
    await writer.transaction(async (tx) => {
      const fid = await folders.ensureOneIn(tx, folder);
      for (const r of rows) r[0] = fid;
      await insertChunks(tx, rows, (n) => `INSERT INTO local_base(folder_id, path, hashes) VALUES ${valuesList(n, 3)} ON CONFLICT(folder_id, path) DO UPDATE SET hashes = excluded.hashes`);
    });
  }

  async function localBase(folder: string, path: string): Promise<string[] | undefined> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return undefined;
    const r = await reader.get<{ hashes: string }>('SELECT hashes FROM local_base WHERE folder_id = ? AND path = ?', [fid, path]);
    return r === undefined ? undefined : (JSON.parse(r.hashes) as string[]);
  }

  async function localBasesAt(folder: string, paths: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const fid = paths.length === 0 ? undefined : await folders.lookup(folder);
    if (fid === undefined) return out;
    for (const chunk of chunks([...new Set(paths)])) {
      const rows = await reader.all<{ path: string; hashes: string }>(`SELECT path, hashes FROM local_base WHERE folder_id = ? AND path IN (${inList(chunk.length)})`, [fid, ...chunk]);
      for (const r of rows) out.set(r.path, JSON.parse(r.hashes) as string[]);
    }
    return out;
  }

  async function deleteLocalBases(folder: string, paths: readonly string[]): Promise<number> {
    if (paths.length === 0) return 0;
    return writer.transaction(async (tx) => {
      const fid = await folders.lookupIn(tx, folder);
      if (fid === undefined) return 0;
      let removed = 0;
      for (const chunk of chunks(paths)) removed += (await tx.run(`DELETE FROM local_base WHERE folder_id = ? AND path IN (${inList(chunk.length)})`, [fid, ...chunk])).changes;
      return removed;
    });
  }

  return { setLocalBases, localBase, localBasesAt, deleteLocalBases };
}
