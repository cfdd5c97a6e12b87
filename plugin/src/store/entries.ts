/** The log tables: entries, heads per path, version vectors, checkpoints and fork evidence. */
import { appender, hashKey } from './append';
import { LOOKUP_KEYS } from './hash-index';
import { blobToHash, checkHash, hashToBlob, unframe } from './codec';
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

/** What the log and sync need from the store. */
export interface EntryStore {
  /**
   * Stores entries, checkpoints and fork evidence, with heads and feeds, all or nothing;
   * duplicates by hash are ignored. Batches that queue up while a transaction runs share the
   * next commit, each in its own savepoint: one that fails is rejected alone. An abort seen
   * before the batch's last statement rolls it back whole (STORE_ABORTED); after that it commits.
   */
  appendBatch(batch: AppendBatch, options?: { signal?: AbortSignal }): Promise<AppendResult>;
  /** author → highest contiguous stored seq (from FIRST_SEQ) and the hash of the entry there. */
  versionVector(folder: string): Promise<VersionVector>;
  /** One author's entries with fromSeq ≤ seq ≤ toSeq, in seq order, fetched page by page. */
  entriesRange(folder: string, author: string, fromSeq: number, toSeq: number, options?: StreamOptions): AsyncIterableIterator<EntryRecord>;
  entry(hash: string): Promise<EntryRecord | undefined>;
  /** The heads of a path, ordered by hash; none if nothing is stored there. */
  heads(folder: string, path: string): Promise<HeadRef[]>;
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

interface EntryRow {
  seq: number;
  hash: string;
  /** Empty for the first entry of a feed (hex(NULL) is ''). */
  prev: string;
  lamport: number;
  paths: string;
  parents: string;
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

// Hashes come back as hex text: node-sqlite3 makes a JS string faster than a Buffer, and the
// records want hex anyway (reading 100k entries: ~40% less CPU than blobs converted in JS).
const ENTRY_COLUMNS = 'seq, lower(hex(hash)) AS hash, lower(hex(prev)) AS prev, lamport, paths, parents, bytes';
const ENTRY_COLUMNS_E = 'e.seq, lower(hex(e.hash)) AS hash, lower(hex(e.prev)) AS prev, e.lamport, e.paths, e.parents, e.bytes';

const HEAD_COLUMNS = 'h.path, lower(hex(h.hash)) AS hash, a.author, h.seq, h.lamport';

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
    const rows = reader.each<EntryRow>(
      (after, limit) => [
        `SELECT ${ENTRY_COLUMNS} FROM entries WHERE folder_id = ? AND author_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
        [fid, aid, after ? after.seq + 1 : fromSeq, toSeq, limit],
      ],
      { pageSize: options.pageSize ?? ctx.pageSize, signal: options.signal },
    );
    for await (const r of rows) yield toEntry(folder, author, r);
  }

  async function entry(hash: string): Promise<EntryRecord | undefined> {
    const r = await reader.get<EntryRow & { folder: string; author: string }>(
      `SELECT f.folder AS folder, a.author AS author, ${ENTRY_COLUMNS_E}
       FROM entries e JOIN folders f ON f.id = e.folder_id JOIN authors a ON a.id = e.author_id
       WHERE (e.folder_id, e.author_id, e.seq) IN (${LOOKUP_KEYS}) AND e.hash = ?2`,
      [hashKey(checkHash(hash, 'hash')), hashToBlob(hash, 'hash')],
    );
    return r && toEntry(r.folder, r.author, r);
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

  return { appendBatch: appender(ctx), versionVector, entriesRange, entry, heads, pathsWithHeads, latestCheckpoint, checkpointsCovering, forks };
}

function toEntry(folder: string, author: string, r: EntryRow): EntryRecord {
  return {
    folder,
    author,
    seq: r.seq,
    hash: r.hash,
    prev: r.prev || null,
    lamport: r.lamport,
    paths: JSON.parse(r.paths) as string[],
    parents: JSON.parse(r.parents) as string[],
    bytes: r.bytes,
  };
}

function toHead(r: HeadRow): HeadRef {
  return { hash: r.hash, author: r.author, seq: r.seq, lamport: r.lamport };
}

function toCheckpoint(folder: string, author: string, r: CheckpointRow): CheckpointRecord {
  return { folder, author, seq: r.seq, entryHash: blobToHash(r.entry_hash), signature: r.signature };
}
