/**
 * cutFeed: removes a feed's entries from a seq on, when a new current manifest makes them
 * invalid (a revocation, a demotion, a narrowed path grant), so that this node's state is the
 * one a node that refused them on arrival has: same feeds, same heads, same state hash.
 *
 * Why remove rather than mark: an invalid entry must not hold its seq. A narrowed writer goes
 * on writing inside its grant from the cut on (the log's feed is one chain per author), and a
 * kept entry at a reused seq would be taken for a fork. With them go what only they made
 * meaningful: their checkpoints (a signature over a chain this node no longer holds proves
 * nothing it can serve), their by-hash keys, and fork evidence at or past the cut (a fork among
 * invalid entries stops nothing, and keeping it would stop the feed at a reused seq forever).
 *
 * Heads of the paths the removed entries touched are derived again from every stored entry of
 * the folder touching them, by the rule the appender keeps (see `heads` in 001_init.sql). That
 * is one pass over the folder's chunks: a cut is rare (an admin's decision), and it is the only
 * way to know which entries still name a path's versions as parents.
 */
import { decodeChunk, encodeChunk, hashKeyAt, type ChunkRow } from './chunks';
import { checkSeq, checkText } from './codec';
import type { StoreContext } from './context';
import { abortError, StoreError } from './errors';
import { FIRST_SEQ } from './records';

export interface FeedCut {
  /** Entries removed. */
  readonly removed: number;
  /** Hashes of the removed entries, in seq order. */
  readonly hashes: readonly string[];
  /** Every path they touched, sorted: the paths whose heads (and files) may have changed. */
  readonly paths: readonly string[];
}

export interface CutStore {
  /**
   * Removes entries of feed (folder, author) with seq ≥ fromSeq, with their checkpoints,
   * by-hash keys and the fork evidence at or past fromSeq; moves the feed's version vector back
   * to fromSeq - 1 if it was past it; derives the heads of the touched paths again. One
   * transaction: all of it or none.
   */
  cutFeed(folder: string, author: string, fromSeq: number, options?: { signal?: AbortSignal }): Promise<FeedCut>;
}

const PATHS_IN = 'SELECT value FROM json_each(CAST(?2 AS TEXT))';

// ?1 folder, ?2 a JSON array of paths: the appender's derivation (append.ts), over every chunk of the folder.
const REDERIVE = [
  `DELETE FROM heads WHERE folder_id = ?1 AND path IN (${PATHS_IN})`,
  `DELETE FROM superseded WHERE folder_id = ?1 AND path IN (${PATHS_IN})`,
  `INSERT OR IGNORE INTO superseded(folder_id, path, hash)
   SELECT c.folder_id, p.value, unhex(q.value)
   FROM entry_chunks c, jsonb_each(c.meta) AS j, jsonb_each(j.value, '$[1]') AS p, jsonb_each(j.value, '$[2]') AS q
   WHERE c.folder_id = ?1 AND p.value IN (${PATHS_IN})`,
  `INSERT OR IGNORE INTO heads(folder_id, path, hash, author_id, seq, lamport)
   SELECT c.folder_id, p.value, substr(c.hashes, 32 * j.key + 1, 32), c.author_id, c.first_seq + j.key, j.value->>0
   FROM entry_chunks c, jsonb_each(c.meta) AS j, jsonb_each(j.value, '$[1]') AS p
   WHERE c.folder_id = ?1 AND p.value IN (${PATHS_IN})
     AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.folder_id = c.folder_id AND s.path = p.value AND s.hash = substr(c.hashes, 32 * j.key + 1, 32))`,
];

// ?1 folder, ?2 author, ?3 a JSON array of [hash key, seq].
const UNINDEX = ['entry_hashes', 'entry_hashes_recent'].map(
  (t) => `DELETE FROM ${t} WHERE (hash_key, folder_id, author_id, seq) IN (SELECT j.value->>0, ?1, ?2, j.value->>1 FROM json_each(CAST(?3 AS TEXT)) AS j)`,
);

type MetaItem = [number, string[], string[], number, (string | null)?];

export function cutStore(ctx: StoreContext): CutStore {
  const { writer, folders, authors } = ctx;

  async function cutFeed(folder: string, author: string, fromSeq: number, options: { signal?: AbortSignal } = {}): Promise<FeedCut> {
    checkText(folder, 'folder');
    checkText(author, 'author');
    checkSeq(fromSeq, 'fromSeq');
    if (fromSeq < FIRST_SEQ) throw new StoreError('STORE_INVALID_ARGUMENT', `fromSeq must be ≥ ${FIRST_SEQ}, got ${fromSeq}`);
    const { signal } = options;
    const checkAborted = (): void => {
      if (signal?.aborted) throw abortError(signal, 'cutFeed');
    };
    checkAborted();
    const fid = await folders.lookup(folder);
    const aid = await authors.lookup(author);
    if (fid === undefined || aid === undefined) return { removed: 0, hashes: [], paths: [] };
    return writer.transaction(async (tx) => {
      const rows = await tx.all<ChunkRow>(
        'SELECT first_seq, last_seq, hashes, CAST(meta AS TEXT) AS meta, bytes FROM entry_chunks WHERE folder_id = ? AND author_id = ? AND last_seq >= ? ORDER BY first_seq',
        [fid, aid, fromSeq],
      );
      const hashes: string[] = [];
      const paths = new Set<string>();
      const keys: Array<[number, number]> = [];
      let kept: ChunkRow | undefined;
      for (const row of rows) {
        const meta = JSON.parse(row.meta) as MetaItem[];
        for (let seq = Math.max(fromSeq, row.first_seq); seq <= row.last_seq; seq++) {
          const i = seq - row.first_seq;
          hashes.push(row.hashes.toString('hex', 32 * i, 32 * i + 32));
          for (const p of meta[i][1]) paths.add(p);
          keys.push([hashKeyAt(row.hashes, 32 * i), seq]);
        }
        if (row.first_seq < fromSeq) kept = row;
      }
      checkAborted();
      await tx.run('DELETE FROM entry_chunks WHERE folder_id = ? AND author_id = ? AND last_seq >= ?', [fid, aid, fromSeq]);
      if (kept) {
        // The chunk the cut runs through keeps the entries below it, as a chunk of its own.
        const c = encodeChunk(decodeChunk(folder, author, kept, kept.first_seq, fromSeq - 1));
        await tx.run('INSERT INTO entry_chunks(folder_id, author_id, first_seq, last_seq, hashes, meta, bytes) VALUES (?,?,?,?,?,CAST(? AS TEXT),?)', [
          fid,
          aid,
          c.firstSeq,
          c.lastSeq,
          c.hashes,
          c.meta,
          c.bytes,
        ]);
      }
      if (keys.length > 0) for (const sql of UNINDEX) await tx.run(sql, [fid, aid, JSON.stringify(keys)]);
      await tx.run('DELETE FROM checkpoints WHERE folder_id = ? AND author_id = ? AND seq >= ?', [fid, aid, fromSeq]);
      await tx.run('DELETE FROM forks WHERE folder_id = ? AND author = ? AND seq >= ?', [fid, author, fromSeq]);
      const feed = await tx.get<{ seq: number }>('SELECT seq FROM feeds WHERE folder_id = ? AND author_id = ?', [fid, aid]);
      if (feed && feed.seq >= fromSeq) {
        const below = fromSeq - 1;
        const at = below >= FIRST_SEQ ? await tx.get<{ first_seq: number; hashes: Buffer }>(
          'SELECT first_seq, hashes FROM entry_chunks WHERE folder_id = ? AND author_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
          [fid, aid, below],
        ) : undefined;
        if (at) await tx.run('UPDATE feeds SET seq = ?, head = ? WHERE folder_id = ? AND author_id = ?', [below, at.hashes.subarray(32 * (below - at.first_seq), 32 * (below - at.first_seq) + 32), fid, aid]);
        else await tx.run('DELETE FROM feeds WHERE folder_id = ? AND author_id = ?', [fid, aid]);
      }
      checkAborted();
      const touched = [...paths].sort();
      if (touched.length > 0) for (const sql of REDERIVE) await tx.run(sql, [fid, JSON.stringify(touched)]);
      checkAborted();
      return { removed: hashes.length, hashes, paths: touched };
    });
  }

  return { cutFeed };
}
