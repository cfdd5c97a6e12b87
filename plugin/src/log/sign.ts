/** Making checkpoints: one signature per batch of local changes covers the whole feed so far. */
import { checkpointSigningBytes } from './encoding';
import { entryAfter, type FeedTip, type NewChange } from './feed';
import type { Checkpoint, HashedEntry, Signer } from './types';

/** Signs a checkpoint at `last`, the newest entry of a batch (the chain covers the rest). */
export async function signCheckpoint(signer: Signer, last: HashedEntry): Promise<Checkpoint> {
  const fields = { folder: last.entry.folder, author: last.entry.author, seq: last.entry.seq, entryHash: last.hash };
  const signature = await signer.sign(checkpointSigningBytes(fields));
  return { ...fields, signature };
}

/**
 * Appends a batch of local changes to the feed at `tip` and signs one checkpoint at its end.
 * Nothing is appended if signing fails, so the caller stores entries and checkpoint together.
 */
export async function appendBatch(
  tip: FeedTip | null,
  changes: readonly NewChange[],
  signer: Signer,
  signal?: AbortSignal,
): Promise<{ entries: HashedEntry[]; checkpoint: Checkpoint | null; tip: FeedTip | null }> {
  const { entries, tip: t } = chainEntries(tip, changes, signal);
  if (entries.length === 0) return { entries, checkpoint: null, tip };
  signal?.throwIfAborted();
  return { entries, checkpoint: await signCheckpoint(signer, entries[entries.length - 1]), tip: t };
}

/**
 * The changes as the entries that follow `tip`, encoded and hashed. A sync function of its
 * own: inside the async appendBatch, V8 compiled the whole encoder inlined into a generator.
 */
function chainEntries(tip: FeedTip | null, changes: readonly NewChange[], signal?: AbortSignal): { entries: HashedEntry[]; tip: FeedTip | null } {
  const entries: HashedEntry[] = [];
  // The tip's fields, not a FeedTip per entry: each entry is built to follow the one before it
  // (seq + 1, prev its hash, a greater clock), which is what advance() would check.
  let seq = tip === null ? 0 : tip.seq;
  let hash = tip === null ? null : tip.hash;
  let lamport = tip === null ? 0 : tip.lamport;
  // Indexed: called a few times per batch with loops of a thousand, where for-of allocated an iterator result per step.
  for (let i = 0; i < changes.length; i++) {
    if ((i & 1023) === 0) signal?.throwIfAborted();
    const e = entryAfter(seq, hash, lamport, changes[i]);
    entries.push(e);
    seq = e.entry.seq;
    hash = e.hash;
    lamport = e.entry.lamport;
  }
  return { entries, tip: entries.length === 0 ? tip : { seq, hash: hash as string, lamport } };
}
