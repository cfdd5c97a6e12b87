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

/**
 * Fork evidence as the store keeps it: the two entries' bytes. `storedBytes` completes a side
 * that was already stored here (the validator's evidence then carries only the new side).
 */
export async function forkRecord(f: ForkEvidence, detectedAtMs: number, storedBytes: (hash: Hash) => Promise<Buffer | undefined>): Promise<ForkRecord | null> {
  const byHash = new Map<Hash, Buffer>();
  for (const b of f.entries) byHash.set(sha256Hex(b), asBuffer(b));
  const [a, b] = f.hashes;
  const bytesA = byHash.get(a) ?? (await storedBytes(a));
  const bytesB = byHash.get(b) ?? (await storedBytes(b));
  if (!bytesA || !bytesB) return null;
  return { folder: f.folder, author: f.author, seq: f.seq, hashA: a, hashB: b, bytesA, bytesB, detectedAtMs };
}
