/** appendBatch: one transaction that stores entries, checkpoints and fork evidence and keeps heads and version vectors in step. */
import { insertChunks, valuesList } from './batch-sql';
import { checkHash, checkSeq, checkText, frame, hashToBlob } from './codec';
import type { StoreContext } from './context';
import type { RunResult, Transaction } from './db';
import { abortError, StoreError } from './errors';
import { GroupCommit } from './group-commit';
import { FIRST_SEQ, type AppendBatch, type AppendResult, type CheckpointRecord, type EntryRecord, type ForkRecord } from './records';

/** Entries per statement; see appendBatch for why a batch travels as one JSON text and one blob. */
const ENTRIES_PER_STATEMENT = 2000;

// The two statements below read ?1, a JSON array of entry rows, as UTF-8 bytes (a Buffer binds
// with one copy; node-sqlite3 converts a string of the same size several times slower, measured
// ~0.45 ms against ~0.12 ms for a 1,000-entry chunk),
// rows [folderId, authorId, seq, hash, prev, lamport, paths[], parents[], bytesOffset, bytesLength, hashKey]
// and (the insert) ?2, the entries' canonical bytes concatenated (offsets are 1-based, as substr wants).
// jsonb_each over jsonb(?1) parses the text once and hands out each row as JSONB, so `->>`
// reads fields without re-parsing; json_each would render every row back to text and each
// `->>` would parse it again (about twice the cost per entry, measured).
const INSERT_ENTRIES = `
INSERT INTO entries(folder_id, author_id, seq, hash, hash_key, prev, lamport, paths, parents, bytes)
SELECT j.value->>0, j.value->>1, j.value->>2, unhex(j.value->>3), j.value->>10, unhex(j.value->>4), j.value->>5, j.value->6, j.value->7,
       substr(?2, j.value->>8, j.value->>9)
FROM jsonb_each(jsonb(CAST(?1 AS TEXT))) AS j WHERE true
ON CONFLICT(folder_id, author_id, seq) DO NOTHING`;

/** After a chunk skipped rows: one whose (folder, author, seq) holds a different hash, if any. */
const FIND_COLLISION = `
SELECT j.value->>3 AS hash, j.value->>2 AS seq, lower(hex(e.hash)) AS stored FROM json_each(CAST(?1 AS TEXT)) AS j
JOIN entries e ON e.folder_id = j.value->>0 AND e.author_id = j.value->>1 AND e.seq = j.value->>2
WHERE e.hash <> unhex(j.value->>3) LIMIT 1`;

// Heads are derived from the entries just stored, one statement per contiguous run of one feed's
// seqs in the batch (?1 folder, ?2 author, ?3..?4 seqs): reading them back from the clustered
// table is cheaper than extracting them from the batch's JSON a second time. Re-deriving from an
// entry stored earlier is harmless: every statement here is idempotent.
const INSERT_SUPERSEDED = `
INSERT OR IGNORE INTO superseded(folder_id, path, hash)
SELECT e.folder_id, p.value, unhex(q.value) FROM entries e, json_each(e.paths) AS p, json_each(e.parents) AS q
WHERE e.folder_id = ?1 AND e.author_id = ?2 AND e.seq BETWEEN ?3 AND ?4`;

const INSERT_HEADS = `
INSERT OR IGNORE INTO heads(folder_id, path, hash, author_id, seq, lamport)
SELECT e.folder_id, p.value, e.hash, e.author_id, e.seq, e.lamport FROM entries e, json_each(e.paths) AS p
WHERE e.folder_id = ?1 AND e.author_id = ?2 AND e.seq BETWEEN ?3 AND ?4
  AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.folder_id = e.folder_id AND s.path = p.value AND s.hash = e.hash)`;

const DELETE_SUPERSEDED_HEADS = `
DELETE FROM heads WHERE (folder_id, path, hash) IN (
  SELECT e.folder_id, p.value, unhex(q.value) FROM entries e, json_each(e.paths) AS p, json_each(e.parents) AS q
  WHERE e.folder_id = ?1 AND e.author_id = ?2 AND e.seq BETWEEN ?3 AND ?4)`;

/**
 * Continues a feed's version-vector row from ?3 through entries stored earlier than their
 * predecessors: it stops at the first entry whose successor is missing. Does nothing when
 * seq ?3 itself is not stored.
 */
const ADVANCE_FEED_FROM = `
INSERT INTO feeds(folder_id, author_id, seq, head)
SELECT e.folder_id, e.author_id, e.seq, e.hash FROM entries e
WHERE e.folder_id = ?1 AND e.author_id = ?2 AND e.seq >= ?3
  AND EXISTS (SELECT 1 FROM entries f WHERE f.folder_id = ?1 AND f.author_id = ?2 AND f.seq = ?3)
  AND NOT EXISTS (SELECT 1 FROM entries n WHERE n.folder_id = ?1 AND n.author_id = ?2 AND n.seq = e.seq + 1)
ORDER BY e.seq LIMIT 1
ON CONFLICT(folder_id, author_id) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

const SET_FEED = `
INSERT INTO feeds(folder_id, author_id, seq, head) VALUES (?, ?, ?, ?)
ON CONFLICT(folder_id, author_id) DO UPDATE SET seq = excluded.seq, head = excluded.head`;

/** The first 52 bits of a hash, as a safe integer: the key of the by-hash index. */
export function hashKey(hash: string): number {
  return parseInt(hash.slice(0, 13), 16);
}

export function appender(ctx: StoreContext): (batch: AppendBatch, options?: { signal?: AbortSignal }) => Promise<AppendResult> {
  const commits = new GroupCommit<Job, AppendResult>(ctx.writer, (tx, job) => writeBatch(ctx, tx, job));
  return async (batch, options) => commits.submit(prepare(batch, options?.signal));
}

/** A batch checked and turned into rows, waiting for its transaction. */
interface Job {
  entries: readonly EntryRecord[];
  checkpoints: readonly CheckpointRecord[];
  forks: readonly ForkRecord[];
  /** [folder, author, seq, entryHash, signature]; folder and author become ids in the transaction. */
  checkpointRows: unknown[][];
  /** [folder, author, seq, hashA, hashB, bytesA, bytesB, detectedAtMs, proofEntries, proofCheckpoints]; folder becomes an id. */
  forkRows: unknown[][];
  signal: AbortSignal | undefined;
}

/** Checks every record before any transaction: a bad one is refused without touching the file. */
function prepare(batch: AppendBatch, signal: AbortSignal | undefined): Job {
  if (signal?.aborted) throw abortError(signal, 'appendBatch');
  const entries = batch.entries ?? [];
  const checkpoints = batch.checkpoints ?? [];
  const forks = batch.forks ?? [];
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
      f.proof ? frame(f.proof.entries, 'fork.proof.entries') : null,
      f.proof ? frame(f.proof.checkpoints, 'fork.proof.checkpoints') : null,
    ];
  });

  return { entries, checkpoints, forks, checkpointRows, forkRows, signal };
}

/**
 * Why JSON: node-sqlite3 converts every bound parameter separately on the JS thread (about
 * 0.5 µs each here), and an entry is ten; one JSON text per chunk plus one blob holding the
 * encodings replaces them with one V8 JSON.stringify and sqlite's C JSON parser. It is still
 * one multi-row INSERT per chunk of rows (measured: ~1.6x faster than 512-row VALUES lists).
 */
async function writeBatch(ctx: StoreContext, tx: Transaction, job: Job): Promise<AppendResult> {
  const { folders, authors } = ctx;
  const { entries, checkpoints, forks, checkpointRows, forkRows, signal } = job;
  const checkAborted = (): void => {
    if (signal?.aborted) throw abortError(signal, 'appendBatch');
  };
  checkAborted();
  const folderNames = new Set<string>();
  const authorNames = new Set<string>();
  for (const list of [entries, checkpoints]) {
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
  // Chunk k+1's JSON is built while sqlite inserts chunk k on its worker thread.
  let inFlight: { chunk: readonly EntryRecord[]; json: Buffer; run: Promise<RunResult> } | undefined;
  const settle = async (): Promise<void> => {
    if (!inFlight) return;
    const { chunk, json, run } = inFlight;
    inFlight = undefined;
    const inserted = (await run).changes;
    entriesInserted += inserted;
    if (inserted < chunk.length) {
      // Skipped rows are duplicates, unless another entry holds their (author, seq): a fork,
      // which the log must report as evidence, not store as an entry. Refuse the whole batch.
      const c = await tx.get<{ hash: string; seq: number; stored: string }>(FIND_COLLISION, [json]);
      if (c) {
        const e = chunk.find((x) => x.hash === c.hash)!;
        throw new StoreError('STORE_CONSTRAINT', `entry ${c.hash} collides with stored entry ${c.stored} at ${e.folder}/${e.author}/${c.seq}: store a fork as evidence, not as an entry`);
      }
    }
  };
  try {
    for (let i = 0; i < entries.length; i += ENTRIES_PER_STATEMENT) {
      checkAborted();
      const chunk = entries.slice(i, i + ENTRIES_PER_STATEMENT);
      let offset = 1;
      const rows = chunk.map((e) => {
        const row = [fids.get(e.folder), aids.get(e.author), e.seq, e.hash, e.prev, e.lamport, e.paths, e.parents, offset, e.bytes.length, hashKey(e.hash)];
        offset += e.bytes.length;
        if (e.parents.length > 0) withParents = true;
        return row;
      });
      const json = Buffer.from(JSON.stringify(rows), 'utf8');
      const bytes = Buffer.concat(chunk.map((e) => e.bytes), offset - 1);
      await settle();
      inFlight = { chunk, json, run: tx.run(INSERT_ENTRIES, [json, bytes]) };
    }
    await settle();
  } finally {
    // Never leave a statement running when the transaction rolls back.
    await inFlight?.run.catch(() => undefined);
  }
  checkAborted();
  const runs = feedRuns(entries, fids, aids);
  await ctx.hashes.add(tx, runs, entriesInserted);
  // Superseded rows first, so a head superseded within this batch is never inserted; then the
  // delete removes heads stored by earlier batches that this batch supersedes.
  if (withParents) for (const run of runs) await tx.run(INSERT_SUPERSEDED, run);
  for (const run of runs) await tx.run(INSERT_HEADS, run);
  if (withParents) for (const run of runs) await tx.run(DELETE_SUPERSEDED_HEADS, run);
  await advanceFeeds(tx, entries, fids, aids);
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
  // The last moment to change our mind: after this the commit is on its way.
  checkAborted();
  return { entriesInserted, checkpointsInserted, forksInserted };
}

/**
 * Moves each touched feed's contiguous seq forward. The stored seq s is contiguous by
 * invariant, so s + 1 can only come from this batch: walk the batch's seqs in memory, then
 * let sqlite continue through entries that arrived early (beyond an old gap). Work is per
 * feed, not per entry.
 */
async function advanceFeeds(tx: Transaction, entries: readonly EntryRecord[], fids: Map<string, number>, aids: Map<string, number>): Promise<void> {
  const byFeed = new Map<string, { fid: number; aid: number; hashes: Map<number, string> }>();
  for (const e of entries) {
    const fid = fids.get(e.folder)!;
    const aid = aids.get(e.author)!;
    const key = `${fid}/${aid}`;
    let feed = byFeed.get(key);
    if (!feed) byFeed.set(key, (feed = { fid, aid, hashes: new Map() }));
    feed.hashes.set(e.seq, e.hash);
  }
  for (const { fid, aid, hashes } of byFeed.values()) {
    const stored = (await tx.get<{ seq: number }>('SELECT seq FROM feeds WHERE folder_id = ? AND author_id = ?', [fid, aid]))?.seq ?? FIRST_SEQ - 1;
    let seq = stored;
    while (hashes.has(seq + 1)) seq++;
    if (seq === stored) continue;
    await tx.run(SET_FEED, [fid, aid, seq, hashToBlob(hashes.get(seq)!, 'entry.hash')]);
    await tx.run(ADVANCE_FEED_FROM, [fid, aid, seq + 1]);
  }
}

/** [folderId, authorId, fromSeq, toSeq] for each contiguous run of one feed's seqs in the batch. */
function feedRuns(entries: readonly EntryRecord[], fids: Map<string, number>, aids: Map<string, number>): Array<[number, number, number, number]> {
  const seqs = new Map<string, { fid: number; aid: number; seqs: number[] }>();
  for (const e of entries) {
    const fid = fids.get(e.folder)!;
    const aid = aids.get(e.author)!;
    const key = `${fid}/${aid}`;
    let feed = seqs.get(key);
    if (!feed) seqs.set(key, (feed = { fid, aid, seqs: [] }));
    feed.seqs.push(e.seq);
  }
  const runs: Array<[number, number, number, number]> = [];
  for (const { fid, aid, seqs: list } of seqs.values()) {
    list.sort((x, y) => x - y);
    let from = list[0];
    for (let i = 1; i <= list.length; i++) {
      if (i < list.length && list[i] <= list[i - 1] + 1) continue;
      runs.push([fid, aid, from, list[i - 1]]);
      from = list[i];
    }
  }
  return runs;
}

function checkEntry(e: EntryRecord): void {
  checkText(e.folder, 'entry.folder');
  checkHash(e.hash, 'entry.hash');
  if (e.prev !== null) checkHash(e.prev, 'entry.prev');
  checkText(e.author, 'entry.author');
  checkSeq(e.seq, 'entry.seq');
  checkSeq(e.lamport, 'entry.lamport');
  if (e.seq < FIRST_SEQ) throw new StoreError('STORE_INVALID_ARGUMENT', `entry.seq must be ≥ ${FIRST_SEQ}, got ${e.seq}`);
  if (!Array.isArray(e.paths) || e.paths.length < 1 || e.paths.length > 2) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash} must touch one or two paths`);
  }
  for (const p of e.paths) checkText(p, 'entry.paths');
  if (!Array.isArray(e.parents)) throw new StoreError('STORE_INVALID_ARGUMENT', `entry ${e.hash}: parents must be an array`);
  for (const p of e.parents) checkHash(p, 'entry.parents');
  bufferOf(e.bytes, 'entry.bytes');
}

function bufferOf(b: Buffer, field: string): Buffer {
  if (!Buffer.isBuffer(b)) throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be a Buffer`);
  return b;
}
