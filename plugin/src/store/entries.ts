/** The log tables: entries, heads per path, version vectors, checkpoints and fork evidence. */
import { appender, hashKey } from './append';
import { chunks, inList } from './batch-sql';
import { LOOKUP_KEYS } from './hash-index';
import { decodeChunk, type ChunkRow } from './chunks';
import { blobToHash, checkHash, hashToBlob, unframe } from './codec';
import { abortError } from './errors';
import type { StoreContext, StreamOptions } from './context';
import type {
  AppendBatch,
  AppendResult,
  CheckpointRecord,
  EntryRecord,
  ForkRecord,
  HeadRef,
  PathHeads,
  VersionVector,
} from './records';
import { FIRST_SEQ } from './records';

/** What the log and sync need from the store. */
export interface EntryStore {
  /**
   * Stores entries, checkpoints and fork evidence, with heads and feeds, all or nothing;
   * duplicates by hash are ignored. Batches that queue up while a transaction runs share the
   * next commit, each in its own savepoint: one that fails is rejected alone. An abort seen
   * before the batch's last statement rolls it back whole (STORE_ABORTED); after that it commits.
   */
  appendBatch(batch: AppendBatch, options?: { signal?: AbortSignal }): Promise<AppendResult>;
  /**
   * Checks and encodes `batch` now, so that a later appendBatch of the same object (unchanged)
   * only queues its transaction: a caller that must wait before appending (for the batch
   * before it to commit) does this work meanwhile. Never throws: appendBatch reports what is
   * wrong. Writes nothing; a batch that is never appended costs nothing more. Optional.
   */
  prepareBatch?(batch: AppendBatch): void;
  /** author → highest contiguous stored seq (from FIRST_SEQ) and the hash of the entry there. */
  versionVector(folder: string): Promise<VersionVector>;
  /** One author's entries with fromSeq ≤ seq ≤ toSeq, in seq order, fetched page by page. */
  entriesRange(folder: string, author: string, fromSeq: number, toSeq: number, options?: StreamOptions): AsyncIterableIterator<EntryRecord>;
  /**
   * seq → entry hash of the stored entries of a feed in fromSeq..toSeq, from the chunks' hash
   * columns alone (no entry bytes or meta read). Optional: callers fall back to entriesRange.
   */
  feedHashes?(folder: string, author: string, fromSeq: number, toSeq: number): Promise<Map<number, string>>;
  entry(hash: string): Promise<EntryRecord | undefined>;
  /**
   * Those of `hashes` that are stored (absent ones are left out), in a few queries instead of
   * one entry() each (apply's runs of paths whose entries are not in memory). Optional.
   */
  entries?(hashes: readonly string[]): Promise<Map<string, EntryRecord>>;
  /**
   * The Lamport clocks of those of `hashes` that are stored (absent ones are left out), in a
   * few queries instead of one entry() each. Optional: a replica falls back to entry().
   */
  lamports?(hashes: readonly string[]): Promise<Map<string, number>>;
  /** The heads of a path, ordered by hash; none if nothing is stored there. */
  heads(folder: string, path: string): Promise<HeadRef[]>;
  /** The heads of each of `paths` that has any, in a few queries (apply's runs). Optional: callers fall back to heads(). */
  headsAt?(folder: string, paths: readonly string[]): Promise<Map<string, HeadRef[]>>;
  /** Every path that has heads, in path order, fetched page by page. */
  pathsWithHeads(folder: string, options?: StreamOptions): AsyncIterableIterator<PathHeads>;
  latestCheckpoint(folder: string, author: string): Promise<CheckpointRecord | undefined>;
  /**
   * The checkpoints needed to cover seqs fromSeq..toSeq, in seq order: those inside the range
   * plus the first one at or after toSeq (whose chain covers the tail). If none is at or after
   * toSeq, the tail is not covered yet and only those inside the range come back.
   */
  checkpointsCovering(folder: string, author: string, fromSeq: number, toSeq: number): Promise<CheckpointRecord[]>;
  forks(folder: string): Promise<ForkRecord[]>;
}

interface EntryAtRow {
  folder: string;
  author: string;
  seq: number;
  /** The entry's element of the chunk's meta, as JSON text. */
  meta: string;
  /** Hash of the entry before it in the chunk (null for a chunk's first entry, whose meta names prev). */
  prev_in_chunk: string | null;
  bytes: Buffer;
}

interface HeadRow {
  path: string;
  hash: string;
  author: string;
  seq: number;
  lamport: number;
}

interface ForkRow {
  author: string;
  seq: number;
  hash_a: Buffer;
  hash_b: Buffer;
  bytes_a: Buffer;
  bytes_b: Buffer;
  detected_at_ms: number;
  proof_entries: Buffer | null;
  proof_checkpoints: Buffer | null;
}

interface CheckpointRow {
  seq: number;
  entry_hash: Buffer;
  signature: Buffer;
}

/**
 * The chunk holding each (folder, author, seq) of `k` (rows of the by-hash index),
 * where the hash at that seq is `hash`: the shared part of the lookups by hash below.
 */
const chunkByHash = (hash: string): string => `
  JOIN entry_chunks c ON c.folder_id = k.folder_id AND c.author_id = k.author_id
    AND c.first_seq = (SELECT max(first_seq) FROM entry_chunks WHERE folder_id = k.folder_id AND author_id = k.author_id AND first_seq <= k.seq)
  WHERE c.last_seq >= k.seq AND substr(c.hashes, 32 * (k.seq - c.first_seq) + 1, 32) = ${hash}`;

// One entry is cut out of its chunk here, so that a lookup moves one entry's bytes and meta to
// JS, not the chunk's (measured: ~1 ms per lookup when the whole chunk was decoded in JS).
// `end` is meta[i][3]; the entry starts where the one before it ends.
const ENTRY_BY_HASH = `
SELECT f.folder AS folder, a.author AS author, x.seq, x.meta,
       CASE WHEN x.i > 0 THEN lower(hex(substr(x.hashes, 32 * x.i - 31, 32))) END AS prev_in_chunk,
       substr(x.bytes, x.start + 1, (x.meta ->> 3) - x.start) AS bytes
FROM (
  SELECT k.folder_id, k.author_id, k.seq, k.seq - c.first_seq AS i, c.hashes, c.bytes,
         c.meta -> ('$[' || (k.seq - c.first_seq) || ']') AS meta,
         CASE WHEN k.seq > c.first_seq THEN c.meta ->> ('$[' || (k.seq - c.first_seq - 1) || '][3]') ELSE 0 END AS start
  FROM (${LOOKUP_KEYS}) AS k ${chunkByHash('?2')}
) AS x JOIN folders f ON f.id = x.folder_id JOIN authors a ON a.id = x.author_id`;

/** ?1: JSON [[hash hex, hash key], ...]; each stored one, cut out of its chunk as in ENTRY_BY_HASH. */
const ENTRIES_BY_HASH = `
SELECT x.hash, f.folder AS folder, a.author AS author, x.seq, x.meta,
       CASE WHEN x.i > 0 THEN lower(hex(substr(x.hashes, 32 * x.i - 31, 32))) END AS prev_in_chunk,
       substr(x.bytes, x.start + 1, (x.meta ->> 3) - x.start) AS bytes
FROM (
  SELECT q.value ->> 0 AS hash, k.folder_id, k.author_id, k.seq, k.seq - c.first_seq AS i, c.hashes, c.bytes,
         c.meta -> ('$[' || (k.seq - c.first_seq) || ']') AS meta,
         CASE WHEN k.seq > c.first_seq THEN c.meta ->> ('$[' || (k.seq - c.first_seq - 1) || '][3]') ELSE 0 END AS start
  FROM json_each(CAST(?1 AS TEXT)) AS q
  JOIN (SELECT hash_key, folder_id, author_id, seq FROM entry_hashes UNION ALL SELECT hash_key, folder_id, author_id, seq FROM entry_hashes_recent) AS k
    ON k.hash_key = q.value ->> 1 ${chunkByHash('unhex(q.value ->> 0)')}
) AS x JOIN folders f ON f.id = x.folder_id JOIN authors a ON a.id = x.author_id`;

/** ?1: JSON [[hash hex, hash key], ...]; the lamport of each stored one. */
const LAMPORTS_BY_HASH = `
SELECT q.value ->> 0 AS hash, c.meta ->> ('$[' || (k.seq - c.first_seq) || '][0]') AS lamport
FROM json_each(CAST(?1 AS TEXT)) AS q
JOIN (SELECT hash_key, folder_id, author_id, seq FROM entry_hashes UNION ALL SELECT hash_key, folder_id, author_id, seq FROM entry_hashes_recent) AS k
  ON k.hash_key = q.value ->> 1 ${chunkByHash('unhex(q.value ->> 0)')}`;

/** The chunks of feed (?1, ?2) holding any seq in ?3..?4, in seq order. */
const CHUNKS_IN = `
SELECT first_seq, last_seq, hashes, meta, bytes FROM entry_chunks
WHERE folder_id = ?1 AND author_id = ?2 AND last_seq >= ?3 AND first_seq <= ?4
  AND first_seq >= coalesce((SELECT max(first_seq) FROM entry_chunks WHERE folder_id = ?1 AND author_id = ?2 AND first_seq <= ?3), ?3)
ORDER BY first_seq`;

/** The hash columns of the chunks of feed (?1, ?2) holding any seq in ?3..?4. */
const CHUNK_HASHES_IN = `
SELECT first_seq, last_seq, hashes FROM entry_chunks
WHERE folder_id = ?1 AND author_id = ?2 AND last_seq >= ?3 AND first_seq <= ?4
  AND first_seq >= coalesce((SELECT max(first_seq) FROM entry_chunks WHERE folder_id = ?1 AND author_id = ?2 AND first_seq <= ?3), ?3)`;

const HEAD_COLUMNS = 'h.path, lower(hex(h.hash)) AS hash, a.author, h.seq, h.lamport';

function entryOfRow(hash: string, r: EntryAtRow): EntryRecord {
  const [lamport, paths, parents, , prev] = JSON.parse(r.meta) as [number, string[], string[], number, (string | null)?];
  return { folder: r.folder, author: r.author, seq: r.seq, hash, prev: prev === undefined ? r.prev_in_chunk : prev, lamport, paths, parents, bytes: r.bytes };
}

export function entryStore(ctx: StoreContext): EntryStore {
  const { reader, folders, authors } = ctx;

  async function versionVector(folder: string): Promise<VersionVector> {
    const out: VersionVector = new Map();
    const fid = await folders.lookup(folder);
    if (fid === undefined) return out;
    const rows = await reader.all<{ author: string; seq: number; head: Buffer }>(
      'SELECT a.author, f.seq, f.head FROM feeds f JOIN authors a ON a.id = f.author_id WHERE f.folder_id = ? ORDER BY a.author',
      [fid],
    );
    for (const r of rows) out.set(r.author, { seq: r.seq, head: blobToHash(r.head) });
    return out;
  }

  async function* entriesRange(folder: string, author: string, fromSeq: number, toSeq: number, options: StreamOptions = {}): AsyncIterableIterator<EntryRecord> {
    const fid = await folders.lookup(folder);
    const aid = await authors.lookup(author);
    if (fid === undefined || aid === undefined) return;
    const pageSize = Math.max(1, options.pageSize ?? ctx.pageSize);
    // Pages are windows of pageSize seqs; each is a short read of the chunks it overlaps, so at
    // most a page plus the chunks at its edges is in memory, and the next page is read only
    // when the consumer gets there. A window with nothing stored jumps to the next chunk.
    let next = Math.max(fromSeq, FIRST_SEQ);
    while (next <= toSeq) {
      if (options.signal?.aborted) throw abortError(options.signal, 'entriesRange');
      const end = Math.min(toSeq, next + pageSize - 1);
      const rows = await reader.all<ChunkRow>(CHUNKS_IN, [fid, aid, next, end]);
      if (rows.length === 0) {
        const after = await reader.get<{ first_seq: number | null }>(
          'SELECT min(first_seq) AS first_seq FROM entry_chunks WHERE folder_id = ? AND author_id = ? AND first_seq > ? AND first_seq <= ?',
          [fid, aid, end, toSeq],
        );
        if (after?.first_seq == null) return;
        next = after.first_seq;
        continue;
      }
      const page: EntryRecord[] = [];
      for (const row of rows) for (const e of decodeChunk(folder, author, row, next, end)) page.push(e);
      for (const e of page) yield e;
      next = end + 1;
    }
  }

  async function entry(hash: string): Promise<EntryRecord | undefined> {
    const r = await reader.get<EntryAtRow>(ENTRY_BY_HASH, [hashKey(checkHash(hash, 'hash')), hashToBlob(hash, 'hash')]);
    return r === undefined ? undefined : entryOfRow(hash, r);
  }

  /** Rows of `sql` (whose ?1 is JSON [[hash hex, hash key], ...]) for `hashes`, 500 hashes a statement. */
  async function allByHash<T>(sql: string, hashes: readonly string[]): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < hashes.length; i += 500) {
      const part = hashes.slice(i, i + 500).map((h) => [checkHash(h, 'hash'), hashKey(h)]);
      for (const r of await reader.all<T>(sql, [Buffer.from(JSON.stringify(part), 'latin1')])) out.push(r);
    }
    return out;
  }

  async function entries(hashes: readonly string[]): Promise<Map<string, EntryRecord>> {
    const out = new Map<string, EntryRecord>();
    for (const r of await allByHash<EntryAtRow & { hash: string }>(ENTRIES_BY_HASH, hashes)) out.set(r.hash, entryOfRow(r.hash, r));
    return out;
  }

  async function lamports(hashes: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of await allByHash<{ hash: string; lamport: number }>(LAMPORTS_BY_HASH, hashes)) out.set(r.hash, r.lamport);
    return out;
  }

  async function feedHashes(folder: string, author: string, fromSeq: number, toSeq: number): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const fid = await folders.lookup(folder);
    const aid = await authors.lookup(author);
    if (fid === undefined || aid === undefined || toSeq < fromSeq) return out;
    const rows = await reader.all<{ first_seq: number; last_seq: number; hashes: Buffer }>(CHUNK_HASHES_IN, [fid, aid, fromSeq, toSeq]);
    for (const r of rows) {
      for (let seq = Math.max(r.first_seq, fromSeq); seq <= Math.min(r.last_seq, toSeq); seq++) {
        const at = 32 * (seq - r.first_seq);
        out.set(seq, r.hashes.toString('hex', at, at + 32));
      }
    }
    return out;
  }

  async function heads(folder: string, path: string): Promise<HeadRef[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<HeadRow>(
      `SELECT ${HEAD_COLUMNS} FROM heads h JOIN authors a ON a.id = h.author_id WHERE h.folder_id = ? AND h.path = ? ORDER BY h.hash`,
      [fid, path],
    );
    return rows.map(toHead);
  }

  async function headsAt(folder: string, paths: readonly string[]): Promise<Map<string, HeadRef[]>> {
    const out = new Map<string, HeadRef[]>();
    const fid = paths.length === 0 ? undefined : await folders.lookup(folder);
    if (fid === undefined) return out;
    for (const part of chunks([...new Set(paths)])) {
      const sql = `SELECT ${HEAD_COLUMNS} FROM heads h JOIN authors a ON a.id = h.author_id WHERE h.folder_id = ? AND h.path IN (${inList(part.length)}) ORDER BY h.path, h.hash`;
      for (const r of await reader.all<HeadRow>(sql, [fid, ...part])) {
        const list = out.get(r.path);
        if (list) list.push(toHead(r));
        else out.set(r.path, [toHead(r)]);
      }
    }
    return out;
  }

  async function* pathsWithHeads(folder: string, options: StreamOptions = {}): AsyncIterableIterator<PathHeads> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return;
    const rows = reader.each<HeadRow>(
      (after, limit) =>
        after
          ? [
              `SELECT ${HEAD_COLUMNS} FROM heads h JOIN authors a ON a.id = h.author_id
               WHERE h.folder_id = ? AND (h.path, h.hash) > (?, unhex(?)) ORDER BY h.path, h.hash LIMIT ?`,
              [fid, after.path, after.hash, limit],
            ]
          : [`SELECT ${HEAD_COLUMNS} FROM heads h JOIN authors a ON a.id = h.author_id WHERE h.folder_id = ? ORDER BY h.path, h.hash LIMIT ?`, [fid, limit]],
      { pageSize: options.pageSize ?? ctx.pageSize, signal: options.signal },
    );
    // A page may end in the middle of a path's heads; the group is yielded once the path changes.
    let current: PathHeads | undefined;
    for await (const r of rows) {
      if (current && current.path !== r.path) {
        yield current;
        current = undefined;
      }
      current ??= { path: r.path, heads: [] };
      current.heads.push(toHead(r));
    }
    if (current) yield current;
  }

  async function latestCheckpoint(folder: string, author: string): Promise<CheckpointRecord | undefined> {
    const fid = await folders.lookup(folder);
    const aid = await authors.lookup(author);
    if (fid === undefined || aid === undefined) return undefined;
    const r = await reader.get<CheckpointRow>(
      'SELECT seq, entry_hash, signature FROM checkpoints WHERE folder_id = ? AND author_id = ? ORDER BY seq DESC LIMIT 1',
      [fid, aid],
    );
    return r && toCheckpoint(folder, author, r);
  }

  async function checkpointsCovering(folder: string, author: string, fromSeq: number, toSeq: number): Promise<CheckpointRecord[]> {
    const fid = await folders.lookup(folder);
    const aid = await authors.lookup(author);
    if (fid === undefined || aid === undefined) return [];
    const rows = await reader.all<CheckpointRow>(
      `SELECT seq, entry_hash, signature FROM checkpoints
       WHERE folder_id = ?1 AND author_id = ?2 AND seq >= ?3
         AND seq <= COALESCE((SELECT min(seq) FROM checkpoints WHERE folder_id = ?1 AND author_id = ?2 AND seq >= ?4), ?4)
       ORDER BY seq`,
      [fid, aid, fromSeq, toSeq],
    );
    return rows.map((r) => toCheckpoint(folder, author, r));
  }

  async function forks(folder: string): Promise<ForkRecord[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<ForkRow>(
      `SELECT author, seq, hash_a, hash_b, bytes_a, bytes_b, detected_at_ms, proof_entries, proof_checkpoints
       FROM forks WHERE folder_id = ? ORDER BY author, seq, hash_a, hash_b`,
      [fid],
    );
    return rows.map((r) => ({
      folder,
      author: r.author,
      seq: r.seq,
      hashA: blobToHash(r.hash_a),
      hashB: blobToHash(r.hash_b),
      bytesA: r.bytes_a,
      bytesB: r.bytes_b,
      detectedAtMs: r.detected_at_ms,
      ...(r.proof_entries && r.proof_checkpoints ? { proof: { entries: unframe(r.proof_entries), checkpoints: unframe(r.proof_checkpoints) } } : {}),
    }));
  }

  return { ...appender(ctx), versionVector, entriesRange, feedHashes, entry, entries, lamports, heads, headsAt, pathsWithHeads, latestCheckpoint, checkpointsCovering, forks };
}

function toHead(r: HeadRow): HeadRef {
  return { hash: r.hash, author: r.author, seq: r.seq, lamport: r.lamport };
}

function toCheckpoint(folder: string, author: string, r: CheckpointRow): CheckpointRecord {
  return { folder, author, seq: r.seq, entryHash: blobToHash(r.entry_hash), signature: r.signature };
}
