/** appendBatch: one transaction that stores entries, checkpoints and fork evidence and keeps heads and version vectors in step. */
import { insertChunks, valuesList } from './batch-sql';
import { decodeChunk, encodeChunk, encodedRow, MAX_CHUNK_ENTRIES, type EncodedChunk } from './chunks';
import { checkHash, checkSeq, checkText, frame, hashToBlob } from './codec';
import type { StoreContext } from './context';
import type { Transaction } from './db';
import { abortError, StoreError } from './errors';
import { GroupCommit } from './group-commit';
import { FIRST_SEQ, type AppendBatch, type AppendResult, type CheckpointRecord, type EntryRecord, type ForkRecord } from './records';

// Heads are derived from the chunks just stored, one statement per run of chunks of one feed
// (?1 folder, ?2 author, chunks whose first_seq is in ?3..?4): reading them back from the
// table is cheaper than binding the batch's paths a second time. Only new entries are derived:
// a duplicate's heads were derived when it was first stored. jsonb_each parses a chunk's meta
// once and hands out each entry as JSONB, which jsonb_each(j.value, path) walks without
// parsing text again (json_each and ->, measured, cost twice as much).
const ENTRY_PARENTS = `
FROM entry_chunks c, jsonb_each(c.meta) AS j, jsonb_each(j.value, '$[1]') AS p, jsonb_each(j.value, '$[2]') AS q
WHERE c.folder_id = ?1 AND c.author_id = ?2 AND c.first_seq BETWEEN ?3 AND ?4`;

const INSERT_SUPERSEDED = `
INSERT OR IGNORE INTO superseded(folder_id, path, hash)
SELECT c.folder_id, p.value, unhex(q.value) ${ENTRY_PARENTS}`;

const INSERT_HEADS = `
INSERT OR IGNORE INTO heads(folder_id, path, hash, author_id, seq, lamport)
SELECT c.folder_id, p.value, substr(c.hashes, 32 * j.key + 1, 32), c.author_id, c.first_seq + j.key, j.value->>0
FROM entry_chunks c, jsonb_each(c.meta) AS j, jsonb_each(j.value, '$[1]') AS p
WHERE c.folder_id = ?1 AND c.author_id = ?2 AND c.first_seq BETWEEN ?3 AND ?4
  AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.folder_id = c.folder_id AND s.path = p.value AND s.hash = substr(c.hashes, 32 * j.key + 1, 32))`;

const DELETE_SUPERSEDED_HEADS = `
DELETE FROM heads WHERE (folder_id, path, hash) IN (SELECT c.folder_id, p.value, unhex(q.value) ${ENTRY_PARENTS})`;

const FIRST_SEQ_SQL = String(FIRST_SEQ);

const OPEN_BRACKET = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_BRACKET = Buffer.from(']');

/** Chunks per INSERT: 7 parameters each, and sqlite allows 32,766 per statement. */
const CHUNKS_PER_STATEMENT = 64;

const insertChunkSql: string[] = [];

/** INSERT of n chunks (meta binds as UTF-8 bytes, stored as text). */
function insertChunkRows(n: number): string {
  return (insertChunkSql[n] ??= `INSERT INTO entry_chunks(folder_id, author_id, first_seq, last_seq, hashes, meta, bytes) VALUES ${new Array(n).fill('(?,?,?,?,?,CAST(? AS TEXT),?)').join(',')}`);
}

/** Chunks of feed (?1, ?2) holding any seq in ?3..?4 (the one holding ?3 starts at or before it). */
export const CHUNKS_OVERLAPPING = `
SELECT first_seq, last_seq, hashes FROM entry_chunks
WHERE folder_id = ?1 AND author_id = ?2 AND last_seq >= ?3 AND first_seq <= ?4
  AND first_seq >= coalesce((SELECT max(first_seq) FROM entry_chunks WHERE folder_id = ?1 AND author_id = ?2 AND first_seq <= ?3), ?3)
ORDER BY first_seq`;

/** The chunk of feed (?1, ?2) holding seq ?3, if any. */
const CHUNK_AT = `
SELECT first_seq, last_seq, hashes FROM entry_chunks
WHERE folder_id = ?1 AND author_id = ?2 AND first_seq <= ?3 ORDER BY first_seq DESC LIMIT 1`;

/**
 * Moves feed (?1, ?2) to ?4 (head ?5) if its next seq is in ?3..?4, a run of seqs this batch
 * stored (or re-delivered); changes one row if it moved. The stored seq is contiguous by
 * invariant, so only a run holding its successor can move it. Run as a cached statement, not
 * read with RETURNING: a read goes through Database#all, which prepares, steps and finalizes a
 * new statement each time, three trips to sqlite's thread per batch instead of one.
 */
const ADVANCE_FEED = `
INSERT INTO feeds(folder_id, author_id, seq, head)
SELECT ?1, ?2, ?4, ?5 WHERE coalesce((SELECT seq FROM feeds WHERE folder_id = ?1 AND author_id = ?2), ${FIRST_SEQ_SQL} - 1) + 1 BETWEEN ?3 AND ?4
ON CONFLICT(folder_id, author_id) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

const SET_FEED = `
INSERT INTO feeds(folder_id, author_id, seq, head) VALUES (?, ?, ?, ?)
ON CONFLICT(folder_id, author_id) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

/** The first 52 bits of a hash, as a safe integer: the key of the by-hash index. */
export function hashKey(hash: string): number {
  return parseInt(hash.slice(0, 13), 16);
}

export interface Appender {
  appendBatch(batch: AppendBatch, options?: { signal?: AbortSignal }): Promise<AppendResult>;
  prepareBatch(batch: AppendBatch): void;
}

export function appender(ctx: StoreContext): Appender {
  const stored = new StoredMax();
  const commits = new GroupCommit<Job, AppendResult>(ctx.writer, (tx, job) => writeBatch(ctx, tx, job, stored));
  // Work prepareBatch did ahead, by batch object: a batch that is never appended is collected with it.
  const ahead = new WeakMap<AppendBatch, { job: Job } | { error: unknown }>();
  return {
    appendBatch: async (batch, options) => {
      const early = ahead.get(batch);
      ahead.delete(batch);
      if (early && 'error' in early) throw early.error;
      if (options?.signal?.aborted) throw abortError(options.signal, 'appendBatch');
      const job = early ? { ...early.job, signal: options?.signal } : prepare(batch, options?.signal);
      return commits.submit(job);
    },
    prepareBatch: (batch) => {
      try {
        ahead.set(batch, { job: prepare(batch, undefined) });
      } catch (error) {
        ahead.set(batch, { error });
      }
    },
  };
}

/**
 * An upper bound of the highest seq stored per feed, so that a batch that only extends a feed
 * (nearly all of them) skips the statements that look for stored chunks it could overlap or
 * continue into: a batch is a handful of statements, and each one waits for its turn on the
 * JS thread, which is busy validating the next batch. Raised as chunks are inserted, before
 * their transaction commits, and never lowered: a bound too high after a rollback only costs
 * a probe, while one too low would let a chunk overlap another.
 */
class StoredMax {
  private readonly max = new Map<string, number>();

  async get(tx: Transaction, fid: number, aid: number): Promise<number> {
    const key = `${fid}/${aid}`;
    let m = this.max.get(key);
    if (m === undefined) {
      m = (await tx.get<{ m: number | null }>('SELECT max(last_seq) AS m FROM entry_chunks WHERE folder_id = ? AND author_id = ?', [fid, aid]))?.m ?? 0;
      this.max.set(key, Math.max(m, this.max.get(key) ?? 0));
    }
    return this.max.get(key)!;
  }

  raise(fid: number, aid: number, seq: number): void {
    const key = `${fid}/${aid}`;
    this.max.set(key, Math.max(seq, this.max.get(key) ?? 0));
  }
}

/** A batch checked and turned into rows, waiting for its transaction. */
interface Job {
  /** The entries, per feed, already encoded as chunks: the transaction only inserts them. */
  feeds: FeedJob[];
  checkpoints: readonly CheckpointRecord[];
  forks: readonly ForkRecord[];
  /** [folder, author, seq, entryHash, signature]; folder and author become ids in the transaction. */
  checkpointRows: unknown[][];
  /** [folder, author, seq, hashA, hashB, bytesA, bytesB, detectedAtMs, proofEntries, proofCheckpoints]; folder becomes an id. */
  forkRows: unknown[][];
  signal: AbortSignal | undefined;
}

/** One feed's entries of a batch: runs of contiguous seqs, each as adjacent chunks, in seq order. */
interface FeedJob {
  folder: string;
  author: string;
  runs: EncodedChunk[][];
}

/**
 * Checks every record before any transaction: a bad one is refused without touching the file.
 * The entries are encoded here too, on the caller's turn, not inside the transaction, where
 * sqlite would wait for it (and the records can be collected young).
 */
function prepare(batch: AppendBatch, signal: AbortSignal | undefined): Job {
  if (signal?.aborted) throw abortError(signal, 'appendBatch');
  const entries = batch.entries ?? [];
  const checkpoints = batch.checkpoints ?? [];
  const forks = batch.forks ?? [];
  checkEntries(entries);
  const feeds = byFeed(entries).map((f) => ({ folder: f.folder, author: f.author, runs: contiguousRuns(f.entries).map(toChunks) }));
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
      f.proof ? frame(f.proof.entries, 'fork.proof.entries') : null,
      f.proof ? frame(f.proof.checkpoints, 'fork.proof.checkpoints') : null,
    ];
  });

  return { feeds, checkpoints, forks, checkpointRows, forkRows, signal };
}

/**
 * Indexed loops over the batch's entries here and in byFeed: these run a few times per batch,
 * with loops of thousands, where for-of allocated an iterator result per step. A function of
 * its own so that prepare, which runs once per batch, is not compiled around it.
 */
function checkEntries(entries: readonly EntryRecord[]): void {
  for (let i = 0; i < entries.length; i++) checkEntry(entries[i], i > 0 ? entries[i - 1].hash : null);
}

/** One feed's entries in a batch. */
interface FeedBatch {
  folder: string;
  author: string;
  entries: EntryRecord[];
}

/**
 * Entries go in as chunks (see 003_entry_chunks.sql): per feed, the batch's entries in seq
 * order, without those already stored, cut into runs of contiguous seqs and those into chunks.
 * Per entry, sqlite then only adds a by-hash key and the heads of its paths.
 */
async function writeBatch(ctx: StoreContext, tx: Transaction, job: Job, storedMax: StoredMax): Promise<AppendResult> {
  const { folders, authors } = ctx;
  const { feeds, checkpoints, forks, checkpointRows, forkRows, signal } = job;
  const checkAborted = (): void => {
    if (signal?.aborted) throw abortError(signal, 'appendBatch');
  };
  checkAborted();
  const folderNames = new Set<string>();
  const authorNames = new Set<string>();
  for (const list of [feeds, checkpoints]) {
    for (const x of list) {
      folderNames.add(x.folder);
      authorNames.add(x.author);
    }
  }
  for (const f of forks) folderNames.add(f.folder);
  const fids = await folders.ensureIn(tx, folderNames);
  const aids = await authors.ensureIn(tx, authorNames);
  let entriesInserted = 0;
  let withParents = false;
  /** [folder, author, first seq, last seq] of each run of adjacent chunks stored by this batch. */
  const stored: Array<[number, number, number, number]> = [];
  const keys: Array<{ fid: number; aid: number; firstSeq: number; keys: Buffer }> = [];
  for (const feed of feeds) {
    const fid = fids.get(feed.folder)!;
    const aid = aids.get(feed.author)!;
    for (const run of feed.runs) {
      checkAborted();
      // Nothing stored past the feed's highest seq: a run beyond it cannot overlap.
      const chunks = run[0].firstSeq > (await storedMax.get(tx, fid, aid)) ? run : await newChunks(tx, feed, fid, aid, run);
      // One statement per run (node-sqlite3 hands each statement to its thread pool and back,
      // which costs more than the rows of a small one).
      for (let i = 0; i < chunks.length; i += CHUNKS_PER_STATEMENT) {
        const part = chunks.slice(i, i + CHUNKS_PER_STATEMENT);
        const params: unknown[] = [];
        for (const c of part) params.push(fid, aid, c.firstSeq, c.lastSeq, c.hashes, c.meta, c.bytes);
        await tx.run(insertChunkRows(part.length), params);
        storedMax.raise(fid, aid, part[part.length - 1].lastSeq);
      }
      let group: EncodedChunk[] = [];
      const flush = (): void => {
        if (group.length === 0) return;
        stored.push([fid, aid, group[0].firstSeq, group[group.length - 1].lastSeq]);
        const parts: Buffer[] = [];
        for (const c of group) parts.push(parts.length === 0 ? OPEN_BRACKET : COMMA, c.keys);
        parts.push(CLOSE_BRACKET);
        keys.push({ fid, aid, firstSeq: group[0].firstSeq, keys: Buffer.concat(parts) });
        group = [];
      };
      for (const c of chunks) {
        entriesInserted += c.lastSeq - c.firstSeq + 1;
        if (c.withParents) withParents = true;
        if (group.length > 0 && group[group.length - 1].lastSeq + 1 !== c.firstSeq) flush();
        group.push(c);
      }
      flush();
    }
  }
  checkAborted();
  await ctx.hashes.add(tx, keys, entriesInserted);
  // Superseded rows first, so a head superseded within this batch is never inserted; then the
  // delete removes heads stored by earlier batches that this batch supersedes.
  if (withParents) for (const run of stored) await tx.run(INSERT_SUPERSEDED, run);
  for (const run of stored) await tx.run(INSERT_HEADS, run);
  if (withParents) for (const run of stored) await tx.run(DELETE_SUPERSEDED_HEADS, run);
  await advanceFeeds(tx, feeds, fids, aids, storedMax);
  for (const r of checkpointRows) {
    r[0] = fids.get(r[0] as string)!;
    r[1] = aids.get(r[1] as string)!;
  }
  for (const r of forkRows) r[0] = fids.get(r[0] as string)!;
  const checkpointsInserted = await insertChunks(
    tx,
    checkpointRows,
    (n) => `INSERT INTO checkpoints(folder_id, author_id, seq, entry_hash, signature) VALUES ${valuesList(n, 5)} ON CONFLICT DO NOTHING`,
  );
  const forksInserted = await insertChunks(
    tx,
    forkRows,
    (n) =>
      `INSERT INTO forks(folder_id, author, seq, hash_a, hash_b, bytes_a, bytes_b, detected_at_ms, proof_entries, proof_checkpoints)
       VALUES ${valuesList(n, 10)} ON CONFLICT DO NOTHING`,
  );
  if (entriesInserted > 0 && ctx.entriesCommitted) {
    const told = ctx.entriesCommitted;
    tx.afterCommit(() => told(entriesInserted));
  }
  // The last moment to change our mind: after this the commit is on its way.
  checkAborted();
  return { entriesInserted, checkpointsInserted, forksInserted };
}

/** The batch's entries per feed, each feed's in seq order, without repeats of one entry. */
function byFeed(entries: readonly EntryRecord[]): FeedBatch[] {
  const feeds = new Map<string, FeedBatch>();
  // Entries come in runs of one feed: only a change of feed costs a key.
  let feed: FeedBatch | undefined;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!feed || feed.author !== e.author || feed.folder !== e.folder) {
      const key = `${e.folder}\0${e.author}`;
      feed = feeds.get(key);
      if (!feed) feeds.set(key, (feed = { folder: e.folder, author: e.author, entries: [] }));
    }
    feed.entries.push(e);
  }
  for (const feed of feeds.values()) {
    const list = feed.entries;
    let sorted = true;
    for (let i = 1; i < list.length && sorted; i++) sorted = list[i].seq > list[i - 1].seq;
    if (sorted) continue;
    list.sort((a, b) => a.seq - b.seq);
    const unique: EntryRecord[] = [];
    for (const e of list) {
      const last = unique[unique.length - 1];
      if (last && last.seq === e.seq) {
        if (last.hash !== e.hash) throw collision(feed, e, last.hash);
        continue;
      }
      unique.push(e);
    }
    feed.entries = unique;
  }
  return [...feeds.values()];
}

/** Entries in seq order, cut where a seq is missing. */
function contiguousRuns(list: readonly EntryRecord[]): EntryRecord[][] {
  const out: EntryRecord[][] = [];
  for (let i = 0; i < list.length; ) {
    let j = i + 1;
    while (j < list.length && list[j].seq === list[j - 1].seq + 1) j++;
    out.push(list.slice(i, j));
    i = j;
  }
  return out;
}

function toChunks(run: readonly EntryRecord[]): EncodedChunk[] {
  const out: EncodedChunk[] = [];
  for (let i = 0; i < run.length; i += MAX_CHUNK_ENTRIES) out.push(encodeChunk(run.slice(i, i + MAX_CHUNK_ENTRIES)));
  return out;
}

function collision(feed: { folder: string; author: string }, e: EntryRecord, stored: string): StoreError {
  // Another entry at a stored (author, seq) is a fork, which the log must report as evidence,
  // not store as an entry: the whole batch is refused.
  return new StoreError('STORE_CONSTRAINT', `entry ${e.hash} collides with stored entry ${stored} at ${feed.folder}/${feed.author}/${e.seq}: store a fork as evidence, not as an entry`);
}

/**
 * A run's chunks without the entries already stored. Usually nothing of the run is stored and
 * this is one indexed probe; otherwise the run is decoded, re-delivered entries are dropped (a
 * different entry at a stored seq refuses the batch) and the rest encoded again.
 */
async function newChunks(tx: Transaction, feed: FeedJob, fid: number, aid: number, run: readonly EncodedChunk[]): Promise<readonly EncodedChunk[]> {
  const overlapping = await tx.all<{ first_seq: number; last_seq: number; hashes: Buffer }>(CHUNKS_OVERLAPPING, [fid, aid, run[0].firstSeq, run[run.length - 1].lastSeq]);
  if (overlapping.length === 0) return run;
  const fresh: EntryRecord[] = [];
  let c = 0;
  for (const chunk of run) {
    for (const e of decodeChunk(feed.folder, feed.author, encodedRow(chunk), chunk.firstSeq, chunk.lastSeq)) {
      while (c < overlapping.length && overlapping[c].last_seq < e.seq) c++;
      const stored = overlapping[c];
      if (stored && stored.first_seq <= e.seq) {
        const at = 32 * (e.seq - stored.first_seq);
        const storedHash = stored.hashes.toString('hex', at, at + 32);
        if (storedHash !== e.hash) throw collision(feed, e, storedHash);
        continue;
      }
      fresh.push(e);
    }
  }
  return contiguousRuns(fresh).flatMap(toChunks);
}

/**
 * Moves each touched feed's contiguous seq forward: one statement per run of the batch (a
 * feed's stored seq can only move through the run holding its successor), then, only if
 * chunks are stored past that run, on through them (entries that arrived beyond an old gap).
 * Work is per run and per chunk, not per entry.
 */
async function advanceFeeds(tx: Transaction, feeds: readonly FeedJob[], fids: Map<string, number>, aids: Map<string, number>, storedMax: StoredMax): Promise<void> {
  for (const feed of feeds) {
    const fid = fids.get(feed.folder)!;
    const aid = aids.get(feed.author)!;
    for (const run of feed.runs) {
      const last = run[run.length - 1];
      const head = last.hashes.subarray(32 * (last.lastSeq - last.firstSeq));
      const moved = await tx.run(ADVANCE_FEED, [fid, aid, run[0].firstSeq, last.lastSeq, head]);
      if (moved.changes === 0) continue;
      if ((await storedMax.get(tx, fid, aid)) <= last.lastSeq) break;
      let seq = last.lastSeq;
      let at: Buffer | undefined;
      for (;;) {
        const next = await tx.get<{ first_seq: number; last_seq: number; hashes: Buffer }>(CHUNK_AT, [fid, aid, seq + 1]);
        if (!next || next.last_seq <= seq) break;
        seq = next.last_seq;
        at = next.hashes.subarray(32 * (seq - next.first_seq), 32 * (seq - next.first_seq) + 32);
      }
      if (at) await tx.run(SET_FEED, [fid, aid, seq, at]);
      break;
    }
  }
}

/** `before`: the hash of the entry before it in the batch (a feed's prev, usually). */
function checkEntry(e: EntryRecord, before: string | null): void {
  checkText(e.folder, 'entry.folder');
  // e.hash is checked as encodeChunk writes it, and so is a prev that is the hash before it.
  if (e.prev !== null && e.prev !== before) checkHash(e.prev, 'entry.prev');
  checkText(e.author, 'entry.author');
  checkSeq(e.seq, 'entry.seq');
  checkSeq(e.lamport, 'entry.lamport');
  if (e.seq < FIRST_SEQ) throw new StoreError('STORE_INVALID_ARGUMENT', `entry.seq must be ≥ ${FIRST_SEQ}, got ${e.seq}`);
  const { paths, parents } = e;
  if (!Array.isArray(paths) || paths.length < 1 || paths.length > 2) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash} must touch one or two paths`);
  }
  for (let i = 0; i < paths.length; i++) checkText(paths[i], 'entry.paths');
  if (!Array.isArray(parents)) throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash}: parents must be an array`);
  for (let i = 0; i < parents.length; i++) checkHash(parents[i], 'entry.parents');
  bufferOf(e.bytes, 'entry.bytes');
}

function bufferOf(b: Buffer, field: string): Buffer {
  if (!Buffer.isBuffer(b)) throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be a Buffer`);
  return b;
}
