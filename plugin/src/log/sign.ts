/** Making checkpoints: one signature per batch of local changes covers the whole feed so far. */
import { checkpointSigningBytes } from './encoding';
import type { Checkpoint, HashedEntry, Signer } from './types';

/** Signs a checkpoint at `last`, the newest entry of a batch (the chain covers the rest). */
export async function signCheckpoint(signer: Signer, last: HashedEntry): Promise<Checkpoint> {
  const fields = { folder: last.entry.folder, author: last.entry.author, seq: last.entry.seq, entryHash: last.hash };
  const signature = await signer.sign(checkpointSigningBytes(fields));
  return { ...fields, signature };
}
