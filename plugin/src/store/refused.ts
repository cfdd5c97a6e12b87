/** Entries refused for good under the current manifest (see 004_refused_entries.sql). */
import { inList, insertChunks, valuesList } from './batch-sql';
import { hashToBlob, checkText } from './codec';
import type { StoreContext } from './context';

/** Rows kept per folder at most: a member flooding refusals costs bounded disk. */
export const MAX_REFUSED_PER_FOLDER = 200_000;

export interface RefusedStore {
  /** Remembers refused entries (hash, claimed author); repeats are ignored. */
  addRefused(folder: string, refused: ReadonlyArray<{ readonly hash: string; readonly author: string }>): Promise<void>;
  /** Those of `hashes` remembered as refused. */
  refusedAmong(folder: string, hashes: readonly string[]): Promise<Set<string>>;
  /** Forgets the refusals of these authors (a manifest change may let their entries in). */
  forgetRefused(folder: string, authors: readonly string[]): Promise<void>;
}

export function refusedStore(ctx: StoreContext, limit = MAX_REFUSED_PER_FOLDER): RefusedStore {
  const { writer, reader, folders } = ctx;

  async function addRefused(folder: string, refused: ReadonlyArray<{ readonly hash: string; readonly author: string }>): Promise<void> {
    if (refused.length === 0) return;
    const rows = refused.map((r) => [0, hashToBlob(r.hash, 'refused.hash'), checkText(r.author, 'refused.author')]);
    await writer.transaction(async (tx) => {
      const fid = await folders.ensureOneIn(tx, folder);
      for (const r of rows) r[0] = fid;
      await insertChunks(tx, rows, (n) => `INSERT OR IGNORE INTO refused_entries(folder_id, hash, author) VALUES ${valuesList(n, 3)}`);
      const over = ((await tx.get<{ n: number }>('SELECT count(*) AS n FROM refused_entries WHERE folder_id = ?', [fid]))?.n ?? 0) - limit;
      if (over > 0) await tx.run('DELETE FROM refused_entries WHERE rowid IN (SELECT rowid FROM refused_entries WHERE folder_id = ? ORDER BY rowid LIMIT ?)', [fid, over]);
    });
  }

  async function refusedAmong(folder: string, hashes: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    const fid = await folders.lookup(folder);
    if (fid === undefined || hashes.length === 0) return out;
    const blobs = hashes.map((h) => hashToBlob(h, 'hash'));
    for (let i = 0; i < blobs.length; i += 500) {
      const part = blobs.slice(i, i + 500);
      const rows = await reader.all<{ hash: Buffer }>(`SELECT hash FROM refused_entries WHERE folder_id = ? AND hash IN (${inList(part.length)})`, [fid, ...part]);
      for (const r of rows) out.add(r.hash.toString('hex'));
    }
    return out;
  }

  async function forgetRefused(folder: string, authors: readonly string[]): Promise<void> {
    const fid = await folders.lookup(folder);
    if (fid === undefined || authors.length === 0) return;
    await writer.transaction(async (tx) => {
      for (const a of authors) await tx.run('DELETE FROM refused_entries WHERE folder_id = ? AND author = ?', [fid, a]);
    });
  }

  return { addRefused, refusedAmong, forgetRefused };
}
