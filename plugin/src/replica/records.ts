/** Log and acl objects as the store's records, and back: the one place the two vocabularies meet. */
import { encodeManifest, type SignedManifest } from '../acl';
import { encodeCheckpoint, sha256Hex, type Checkpoint, type ForkEvidence, type Hash, type HashedEntry } from '../log';
import type { CheckpointRecord, EntryRecord, ForkRecord, ManifestRecord } from '../store';

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function entryRecord(he: HashedEntry): EntryRecord {
  const e = he.entry;
  const b = e.body;
  // A move onto itself touches one path (as the log's state sees it); the store keys heads by path.
  const paths = b.op === 'move' ? (b.from === b.to ? [b.to] : [b.from, b.to]) : [b.path];
  return { folder: e.folder, author: e.author, seq: e.seq, hash: he.hash, prev: e.prev, lamport: e.lamport, paths, parents: e.parents as string[], bytes: asBuffer(he.bytes) };
}

export function checkpointRecord(cp: Checkpoint): CheckpointRecord {
  return { folder: cp.folder, author: cp.author, seq: cp.seq, entryHash: cp.entryHash, signature: asBuffer(cp.signature) };
}

export function checkpointFromRecord(r: CheckpointRecord): Checkpoint {
  return { folder: r.folder, author: r.author, seq: r.seq, entryHash: r.entryHash, signature: r.signature };
}

export const encodeCheckpointRecord = (r: CheckpointRecord): Buffer => encodeCheckpoint(checkpointFromRecord(r));

export function manifestRecord(hash: Hash, signed: SignedManifest, overruled: boolean): ManifestRecord {
  const m = signed.manifest;
  return { folder: m.folder, version: m.version, hash, prev: m.prev, author: m.author, bytes: encodeManifest(m), signature: asBuffer(signed.signature), overruled };
}

/** One side of a fork as this node holds it: the entry's bytes and what proves it was signed. */
export interface ForkSide {
  readonly bytes: Buffer;
  /** Entries from the fork's seq up to `checkpoints`, and the stored checkpoint whose chain reaches the entry. */
  readonly entries: readonly Buffer[];
  readonly checkpoints: readonly Buffer[];
}

/**
 * Fork evidence as the store keeps it: the two entries' bytes, and a proof anyone can check
 * (verifyForkEvidence). `storedSide` completes a side that was stored here before (the
 * validator's evidence then carries only the new side and its checkpoints).
 */
export async function forkRecord(f: ForkEvidence, detectedAtMs: number, storedSide: (hash: Hash) => Promise<ForkSide | undefined>): Promise<ForkRecord | null> {
  const byHash = new Map<Hash, Buffer>();
  for (const b of f.entries) byHash.set(sha256Hex(b), asBuffer(b));
  const entries = f.entries.map(asBuffer);
  const checkpoints = f.checkpoints.map(asBuffer);
  const side = async (h: Hash): Promise<Buffer | undefined> => {
    const here = byHash.get(h);
    if (here) return here;
    const s = await storedSide(h);
    if (!s) return undefined;
    entries.push(...s.entries.filter((e) => !byHash.has(sha256Hex(e))));
    checkpoints.push(...s.checkpoints);
    return s.bytes;
  };
  const [a, b] = f.hashes;
  const bytesA = await side(a);
  const bytesB = await side(b);
  if (!bytesA || !bytesB) return null;
  return { folder: f.folder, author: f.author, seq: f.seq, hashA: a, hashB: b, bytesA, bytesB, detectedAtMs, proof: { entries, checkpoints } };
}
