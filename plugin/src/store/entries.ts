/** The log tables: entries, heads per path, version vectors, checkpoints and fork evidence. */
import { insertChunks, valuesList } from './batch-sql';
import type { Transaction } from './db';
import { blobToHash, checkHash as hashToBlobCheck, checkSeq, checkText, hashToBlob, optBlobToHash } from './codec';
import type { StoreContext, StreamOptions } from './context';
import { StoreError } from './errors';
import {
  FIRST_SEQ,
  type AppendBatch,
  type AppendResult,
  type CheckpointRecord,
  type EntryRecord,
  type ForkRecord,
  type HeadRef,
  type PathHeads,
  type VersionVector,
} from './records';

/** What the log and sync need from the store. */
export interface EntryStore {
  /** Stores entries, checkpoints and fork evidence in ONE transaction, with heads and feeds; duplicates by hash are ignored. */
  appendBatch(batch: AppendBatch): Promise<AppendResult>;
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
  author: string;
  seq: number;
  hash: Buffer;
  prev: Buffer | null;
  lamport: number;
  paths: string;
  parents: string;
  bytes: Buffer;
}

interface HeadRow {
  path: string;
  hash: Buffer;
  author: string;
  seq: number;
  lamport: number;
}

interface CheckpointRow {
  seq: number;
  entry_hash: Buffer;
  signature: Buffer;
}

const ENTRY_COLUMNS = 'author, seq, hash, prev, lamport, paths, parents, bytes';

/** Entries per statement; see appendBatch for why a batch travels as one JSON text and one blob. */
const ENTRIES_PER_STATEMENT = 2000;

// Each statement below reads the same two parameters: ?1 a JSON array of entry rows
// [folderId, author, seq, hash, prev, lamport, paths[], parents[], bytesOffset, bytesLength]
// and ?2 the entries' canonical bytes concatenated (offsets are 1-based, as substr wants).
const INSERT_ENTRIES = `
INSERT INTO entries(folder_id, author, seq, hash, prev, lamport, paths, parents, bytes)
SELECT j.value->>0, j.value->>1, j.value->>2, unhex(j.value->>3), unhex(j.value->>4), j.value->>5, j.value->6, j.value->7,
       substr(?2, j.value->>8, j.value->>9)
FROM json_each(?1) AS j WHERE true
ON CONFLICT(hash) DO NOTHING`;

const INSERT_SUPERSEDED = `
INSERT OR IGNORE INTO superseded(folder_id, path, hash)
SELECT j.value->>0, p.value, unhex(q.value) FROM json_each(?1) AS j, json_each(j.value->6) AS p, json_each(j.value->7) AS q`;

const DELETE_SUPERSEDED_HEADS = `
DELETE FROM heads WHERE (folder_id, path, hash) IN (
  SELECT j.value->>0, p.value, unhex(q.value) FROM json_each(?1) AS j, json_each(j.value->6) AS p, json_each(j.value->7) AS q)`;

const INSERT_HEADS = `
INSERT OR IGNORE INTO heads(folder_id, path, hash, author, seq, lamport)
SELECT j.value->>0, p.value, unhex(j.value->>3), j.value->>1, j.value->>2, j.value->>5
FROM json_each(?1) AS j, json_each(j.value->6) AS p
WHERE NOT EXISTS (SELECT 1 FROM superseded s WHERE s.folder_id = j.value->>0 AND s.path = p.value AND s.hash = unhex(j.value->>3))`;

/**
 * Continues a feed's version-vector row from ?3 through entries stored earlier than their
 * predecessors: it stops at the first entry whose successor is missing. Does nothing when
 * seq ?3 itself is not stored.
 */
const ADVANCE_FEED_FROM = `
INSERT INTO feeds(folder_id, author, seq, head)
SELECT e.folder_id, e.author, e.seq, e.hash FROM entries e
WHERE e.folder_id = ?1 AND e.author = ?2 AND e.seq >= ?3
  AND EXISTS (SELECT 1 FROM entries f WHERE f.folder_id = ?1 AND f.author = ?2 AND f.seq = ?3)
  AND NOT EXISTS (SELECT 1 FROM entries n WHERE n.folder_id = ?1 AND n.author = ?2 AND n.seq = e.seq + 1)
ORDER BY e.seq LIMIT 1
ON CONFLICT(folder_id, author) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

const SET_FEED = `
INSERT INTO feeds(folder_id, author, seq, head) VALUES (?, ?, ?, ?)
ON CONFLICT(folder_id, author) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

export function entryStore(ctx: StoreContext): EntryStore {
  const { writer, reader, folders } = ctx;

  /**
   * Why JSON: node-sqlite3 converts every bound parameter separately on the JS thread, and an
   * entry with its heads row is 15 parameters; one JSON text per chunk (plus one blob holding
   * the encodings) replaces them with a single V8 JSON.stringify and sqlite's C JSON parser.
   * It is still one multi-row INSERT per chunk, and the same text feeds the heads statements.
   */
  async function appendBatch(batch: AppendBatch): Promise<AppendResult> {
    const entries = batch.entries ?? [];
    const checkpoints = batch.checkpoints ?? [];
    const forks = batch.forks ?? [];
    // Check every record before the transaction opens: a bad one is refused without touching the file.
    for (const e of entries) checkEntry(e);
    const checkpointRows = checkpoints.map((c) => [
      checkText(c.folder, 'checkpoint.folder'),
      checkText(c.author, 'checkpoint.author'),
      checkSeq(c.seq, 'checkpoint.seq'),
      hashToBlob(c.entryHash, 'checkpoint.entryHash'),
      bufferOf(c.signature, 'checkpoint.signature'),
    ]);
    const forkRows = forks.map((f) => {
      if (f.hashA === f.hashB) throw new StoreError('STORE_INVALID_ARGUMENT', `fork at ${f.author}/${f.seq} names the same entry twice`);
      return [
        checkText(f.folder, 'fork.folder'),
        checkText(f.author, 'fork.author'),
        checkSeq(f.seq, 'fork.seq'),
        hashToBlob(f.hashA, 'fork.hashA'),
        hashToBlob(f.hashB, 'fork.hashB'),
        bufferOf(f.bytesA, 'fork.bytesA'),
        bufferOf(f.bytesB, 'fork.bytesB'),
        checkSeq(f.detectedAtMs, 'fork.detectedAtMs'),
      ];
    });

    return writer.transaction(async (tx) => {
      const ids = await folders.ensureIn(tx, [...entries, ...checkpoints, ...forks].map((r) => r.folder));
      let entriesInserted = 0;
      for (let i = 0; i < entries.length; i += ENTRIES_PER_STATEMENT) {
        const chunk = entries.slice(i, i + ENTRIES_PER_STATEMENT);
        let offset = 1;
        let withParents = false;
        const rows = chunk.map((e) => {
          const row = [ids.get(e.folder), e.author, e.seq, e.hash, e.prev, e.lamport, e.paths, e.parents, offset, e.bytes.length];
          offset += e.bytes.length;
          if (e.parents.length > 0) withParents = true;
          return row;
        });
        const params = [JSON.stringify(rows), Buffer.concat(chunk.map((e) => e.bytes), offset - 1)];
        // A second entry at a stored (folder, author, seq) violates the primary key and aborts the
        // whole batch: that is a fork, which the log must report as evidence, not store as an entry.
        entriesInserted += (await tx.run(INSERT_ENTRIES, params)).changes;
        // Superseded rows go first, so a head superseded within this batch is never inserted;
        // the delete then removes heads superseded by this batch that were stored earlier.
        if (withParents) {
          await tx.run(INSERT_SUPERSEDED, [params[0]]);
          await tx.run(DELETE_SUPERSEDED_HEADS, [params[0]]);
        }
        await tx.run(INSERT_HEADS, [params[0]]);
      }
      await advanceFeeds(tx, entries, ids);
      for (const r of checkpointRows) r[0] = ids.get(r[0] as string)!;
      for (const r of forkRows) r[0] = ids.get(r[0] as string)!;
      const checkpointsInserted = await insertChunks(
        tx,
        checkpointRows,
        (n) => `INSERT INTO checkpoints(folder_id, author, seq, entry_hash, signature) VALUES ${valuesList(n, 5)} ON CONFLICT DO NOTHING`,
      );
      const forksInserted = await insertChunks(
        tx,
        forkRows,
        (n) =>
          `INSERT INTO forks(folder_id, author, seq, hash_a, hash_b, bytes_a, bytes_b, detected_at_ms) VALUES ${valuesList(n, 8)} ON CONFLICT DO NOTHING`,
      );
      return { entriesInserted, checkpointsInserted, forksInserted };
    });
  }

  /**
   * Moves each touched feed's contiguous seq forward. The stored seq s is contiguous by
   * invariant, so s + 1 can only come from this batch: walk the batch's seqs in memory, then
   * let sqlite continue through entries that arrived early (beyond an old gap). Work is per
   * feed, not per entry.
   */
  async function advanceFeeds(tx: Transaction, entries: readonly EntryRecord[], ids: Map<string, number>): Promise<void> {
    const byFeed = new Map<string, { fid: number; author: string; hashes: Map<number, string> }>();
    for (const e of entries) {
      const fid = ids.get(e.folder)!;
      const key = `${fid}\u0000${e.author}`;
      let feed = byFeed.get(key);
      if (!feed) byFeed.set(key, (feed = { fid, author: e.author, hashes: new Map() }));
      feed.hashes.set(e.seq, e.hash);
    }
    for (const { fid, author, hashes } of byFeed.values()) {
      const stored = (await tx.get<{ seq: number }>('SELECT seq FROM feeds WHERE folder_id = ? AND author = ?', [fid, author]))?.seq ?? FIRST_SEQ - 1;
      let seq = stored;
      while (hashes.has(seq + 1)) seq++;
      if (seq === stored) continue;
      await tx.run(SET_FEED, [fid, author, seq, hashToBlob(hashes.get(seq)!, 'entry.hash')]);
      await tx.run(ADVANCE_FEED_FROM, [fid, author, seq + 1]);
    }
  }

  async function versionVector(folder: string): Promise<VersionVector> {
    const out: VersionVector = new Map();
    const fid = await folders.lookup(folder);
    if (fid === undefined) return out;
    const rows = await reader.all<{ author: string; seq: number; head: Buffer }>('SELECT author, seq, head FROM feeds WHERE folder_id = ? ORDER BY author', [fid]);
    for (const r of rows) out.set(r.author, { seq: r.seq, head: blobToHash(r.head) });
    return out;
  }

  async function* entriesRange(folder: string, author: string, fromSeq: number, toSeq: number, options: StreamOptions = {}): AsyncIterableIterator<EntryRecord> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return;
    const rows = reader.each<EntryRow>(
      (after, limit) => [
        `SELECT ${ENTRY_COLUMNS} FROM entries WHERE folder_id = ? AND author = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
        [fid, author, after ? after.seq + 1 : fromSeq, toSeq, limit],
      ],
      { pageSize: options.pageSize ?? ctx.pageSize, signal: options.signal },
    );
    for await (const r of rows) yield toEntry(folder, r);
  }

  async function entry(hash: string): Promise<EntryRecord | undefined> {
    const r = await reader.get<EntryRow & { folder: string }>(
      `SELECT f.folder AS folder, ${ENTRY_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}
       FROM entries e JOIN folders f ON f.id = e.folder_id WHERE e.hash = ?`,
      [hashToBlob(hash, 'hash')],
    );
    return r && toEntry(r.folder, r);
  }

  async function heads(folder: string, path: string): Promise<HeadRef[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<HeadRow>('SELECT path, hash, author, seq, lamport FROM heads WHERE folder_id = ? AND path = ? ORDER BY hash', [fid, path]);
    return rows.map(toHead);
  }

  async function* pathsWithHeads(folder: string, options: StreamOptions = {}): AsyncIterableIterator<PathHeads> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return;
    const rows = reader.each<HeadRow>(
      (after, limit) =>
        after
          ? [
              'SELECT path, hash, author, seq, lamport FROM heads WHERE folder_id = ? AND (path, hash) > (?, ?) ORDER BY path, hash LIMIT ?',
              [fid, after.path, after.hash, limit],
            ]
          : ['SELECT path, hash, author, seq, lamport FROM heads WHERE folder_id = ? ORDER BY path, hash LIMIT ?', [fid, limit]],
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
    if (fid === undefined) return undefined;
    const r = await reader.get<CheckpointRow>(
      'SELECT seq, entry_hash, signature FROM checkpoints WHERE folder_id = ? AND author = ? ORDER BY seq DESC LIMIT 1',
      [fid, author],
    );
    return r && toCheckpoint(folder, author, r);
  }

  async function checkpointsCovering(folder: string, author: string, fromSeq: number, toSeq: number): Promise<CheckpointRecord[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<CheckpointRow>(
      `SELECT seq, entry_hash, signature FROM checkpoints
       WHERE folder_id = ?1 AND author = ?2 AND seq >= ?3
         AND seq <= COALESCE((SELECT min(seq) FROM checkpoints WHERE folder_id = ?1 AND author = ?2 AND seq >= ?4), ?4)
       ORDER BY seq`,
      [fid, author, fromSeq, toSeq],
    );
    return rows.map((r) => toCheckpoint(folder, author, r));
  }

  async function forks(folder: string): Promise<ForkRecord[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<{ author: string; seq: number; hash_a: Buffer; hash_b: Buffer; bytes_a: Buffer; bytes_b: Buffer; detected_at_ms: number }>(
      'SELECT author, seq, hash_a, hash_b, bytes_a, bytes_b, detected_at_ms FROM forks WHERE folder_id = ? ORDER BY author, seq, hash_a, hash_b',
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
    }));
  }

  return { appendBatch, versionVector, entriesRange, entry, heads, pathsWithHeads, latestCheckpoint, checkpointsCovering, forks };
}

function checkEntry(e: EntryRecord): void {
  checkText(e.folder, 'entry.folder');
  hashToBlobCheck(e.hash, 'entry.hash');
  if (e.prev !== null) hashToBlobCheck(e.prev, 'entry.prev');
  checkText(e.author, 'entry.author');
  checkSeq(e.seq, 'entry.seq');
  checkSeq(e.lamport, 'entry.lamport');
  if (e.seq < FIRST_SEQ) throw new StoreError('STORE_INVALID_ARGUMENT', `entry.seq must be ≥ ${FIRST_SEQ}, got ${e.seq}`);
  if (!Array.isArray(e.paths) || e.paths.length < 1 || e.paths.length > 2) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash} must touch one or two paths`);
  }
  for (const p of e.paths) checkText(p, 'entry.paths');
  if (!Array.isArray(e.parents)) throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash}: parents must be an array`);
  for (const p of e.parents) hashToBlobCheck(p, 'entry.parents');
  bufferOf(e.bytes, 'entry.bytes');
}

function bufferOf(b: Buffer, field: string): Buffer {
  if (!Buffer.isBuffer(b)) throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be a Buffer`);
  return b;
}

function toEntry(folder: string, r: EntryRow): EntryRecord {
  return {
    folder,
    author: r.author,
    seq: r.seq,
    hash: blobToHash(r.hash),
    prev: optBlobToHash(r.prev),
    lamport: r.lamport,
    paths: JSON.parse(r.paths) as string[],
    parents: JSON.parse(r.parents) as string[],
    bytes: r.bytes,
  };
}

function toHead(r: HeadRow): HeadRef {
  return { hash: blobToHash(r.hash), author: r.author, seq: r.seq, lamport: r.lamport };
}

function toCheckpoint(folder: string, author: string, r: CheckpointRow): CheckpointRecord {
  return { folder, author, seq: r.seq, entryHash: blobToHash(r.entry_hash), signature: r.signature };
}
