/**
 * Checking fork evidence received from anyone: two verified checkpoints of one author whose
 * hash chains hold different entries at one seq. What a node reports, others can re-check.
 */
import { decodeCheckpoint, decodeHashedEntry, checkpointSigningBytes } from './encoding';
import { DecodeError } from './errors';
import type { ForkEvidence, Hash, HashedEntry, SignatureVerifier } from './types';

export type ForkEvidenceVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** True only if `evidence` proves that its author signed both of `evidence.hashes` at `evidence.seq`. */
export async function verifyForkEvidence(evidence: ForkEvidence, publicKeyArmored: string, verifier: SignatureVerifier): Promise<ForkEvidenceVerdict> {
  const [x, y] = evidence.hashes;
  if (x === y) return { ok: false, reason: 'the two hashes are the same' };
  const byHash = new Map<Hash, HashedEntry>();
  try {
    for (const bytes of evidence.entries) {
      const he = decodeHashedEntry(bytes);
      if (he.entry.folder !== evidence.folder || he.entry.author !== evidence.author) return { ok: false, reason: 'an entry of another feed' };
      byHash.set(he.hash, he);
    }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, reason: `an entry does not decode: ${err.code}` };
    throw err;
  }
  const proven = new Set<Hash>();
  for (const bytes of evidence.checkpoints) {
    let cp;
    try {
      cp = decodeCheckpoint(bytes);
    } catch (err) {
      if (err instanceof DecodeError) return { ok: false, reason: `a checkpoint does not decode: ${err.code}` };
      throw err;
    }
    if (cp.folder !== evidence.folder || cp.author !== evidence.author || cp.seq < evidence.seq) continue;
    if (!(await verifier.verify(publicKeyArmored, checkpointSigningBytes(cp), cp.signature))) return { ok: false, reason: `the checkpoint at seq ${cp.seq} does not verify` };
    // Follow prev links from the signed entry down to the fork's seq.
    let hash: Hash | null = cp.entryHash;
    for (let seq = cp.seq; seq > evidence.seq && hash !== null; seq--) {
      const he = byHash.get(hash);
      hash = he && he.entry.seq === seq ? he.entry.prev : null;
    }
    if (hash !== null) proven.add(hash);
  }
  if (!proven.has(x) || !proven.has(y)) return { ok: false, reason: 'no signed chain reaches one of the two entries' };
  return { ok: true };
}
