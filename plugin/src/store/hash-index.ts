/** The two-level by-hash index of entries (see entry_hashes in 001_init.sql): add, merge, look up. */
import type { Db, Transaction } from './db';

/** Keys held in the recent level before it is merged, at most: small enough that random inserts into it stay cheap. */
export const DEFAULT_RECENT_LIMIT = 50_000;

/**
 * Below the limit, the recent level is merged once it holds an eighth of the big level's keys
 * (but at least 4,096). Every batch dirties nearly every page of the recent level (its keys
 * are random), and every commit writes those pages to the WAL again, while a merge writes
 * about every page of the big level once: a recent level in proportion to the big one keeps
 * both costs small. Measured on a 100k-entry catch-up (batches of 1,000): 145 MB written to
 * the WAL and the file with a fixed 50,000, 116 MB in proportion.
 */
const MIN_RECENT = 4096;
const RECENT_PER_BIG = 1 / 8;

/** ?4: a JSON array of the hash keys of the feed's (?1, ?2) entries at seqs ?3, ?3 + 1, … */
const ADD_RECENT = `
INSERT OR IGNORE INTO entry_hashes_recent(hash_key, folder_id, author_id, seq)
SELECT j.value, ?1, ?2, ?3 + j.key FROM json_each(CAST(?4 AS TEXT)) AS j`;

// Read from a table keyed by hash_key, so the merge inserts in key order: each page of the
// big level is touched once per merge, not once per batch.
const MERGE = `
INSERT OR IGNORE INTO entry_hashes(hash_key, folder_id, author_id, seq)
SELECT hash_key, folder_id, author_id, seq FROM entry_hashes_recent;
DELETE FROM entry_hashes_recent;`;

/** (folder_id, author_id, seq) of the entries whose hash_key is ?1, from both levels. */
export const LOOKUP_KEYS = `
SELECT folder_id, author_id, seq FROM entry_hashes WHERE hash_key = ?1
UNION ALL
SELECT folder_id, author_id, seq FROM entry_hashes_recent WHERE hash_key = ?1`;

export class HashIndex {
  /** Rows committed to the recent level (approximate: duplicates re-delivered are counted too). */
  private recent = 0;
  /** Rows in the big level (approximate likewise, and blind to rows a cut removed): only sizes the recent level. */
  private big = 0;

  private constructor(private readonly limit: number) {}

  static async open(writer: Db, limit = DEFAULT_RECENT_LIMIT): Promise<HashIndex> {
    const index = new HashIndex(limit);
    index.recent = (await writer.get<{ n: number }>('SELECT count(*) AS n FROM entry_hashes_recent'))?.n ?? 0;
    index.big = (await writer.get<{ n: number }>('SELECT count(*) AS n FROM entry_hashes'))?.n ?? 0;
    return index;
  }

  /** Keys the recent level may hold before the next merge. */
  private threshold(): number {
    return Math.min(this.limit, Math.max(MIN_RECENT, this.big * RECENT_PER_BIG));
  }

  /**
   * Indexes runs of entries: `keys` is a JSON array of the hash keys of the entries at seqs
   * firstSeq, firstSeq + 1, …; merges when the recent level is full.
   */
  async add(tx: Transaction, runs: ReadonlyArray<{ fid: number; aid: number; firstSeq: number; keys: Buffer }>, added: number): Promise<void> {
    for (const r of runs) await tx.run(ADD_RECENT, [r.fid, r.aid, r.firstSeq, r.keys]);
    if (this.recent + added < this.threshold()) {
      tx.afterCommit(() => (this.recent += added));
      return;
    }
    await tx.exec(MERGE);
    const merged = this.recent + added;
    tx.afterCommit(() => {
      this.big += merged;
      this.recent = 0;
    });
  }
}
