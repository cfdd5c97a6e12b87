/**
 * Checking fork evidence received from anyone: two verified checkpoints of one author whose
 * hash chains hold different entries at one seq. What a node reports, others can re-check.
 */
import { Reader, Writer, compareStrings } from './codec';
import { FORMAT_VERSION, MAX_SIGNATURE_BYTES, decodeCheckpoint, decodeHashedEntry, checkpointSigningBytes } from './encoding';
import { DecodeError, LogError } from './errors';
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

export const KIND_FORK_EVIDENCE = 0x05;
const MAX_EVIDENCE_ITEMS = 100_000;
const MAX_ITEM_BYTES = 64 * 1024 * 1024;

/**
 * Fork evidence as one canonical blob (to store or send): kind 0x05, format version, folder,
 * author, varint seq, the two hashes (sorted), then the entries and the checkpoints, each a
 * list of length-prefixed byte strings.
 */
export function encodeForkEvidence(f: ForkEvidence): Buffer {
  if (!(compareStrings(f.hashes[0], f.hashes[1]) < 0)) throw new LogError('ENCODE_INVALID', 'the two hashes must differ and be sorted');
  const w = new Writer(1024).u8(KIND_FORK_EVIDENCE).u8(FORMAT_VERSION).folder(f.folder).fingerprint(f.author, 'author').varint(f.seq, 'seq');
  w.hash(f.hashes[0], 'hash').hash(f.hashes[1], 'hash').varint(f.entries.length, 'entry count');
  for (const e of f.entries) w.bytes(e, MAX_ITEM_BYTES, 'entry');
  w.varint(f.checkpoints.length, 'checkpoint count');
  for (const c of f.checkpoints) w.bytes(c, MAX_SIGNATURE_BYTES + 1024, 'checkpoint');
  return w.finish();
}

export function decodeForkEvidence(bytes: Uint8Array): ForkEvidence {
  const r = new Reader(bytes);
  const k = r.u8('kind');
  if (k !== KIND_FORK_EVIDENCE) throw new DecodeError('DECODE_BAD_KIND', `expected fork evidence (kind ${KIND_FORK_EVIDENCE}), got kind ${k}`);
  const v = r.u8('format version');
  if (v !== FORMAT_VERSION) throw new DecodeError('DECODE_BAD_FORMAT_VERSION', `fork evidence format version ${v} is not ${FORMAT_VERSION}`);
  const folder = r.folder();
  const author = r.fingerprint('author');
  const seq = r.int('seq', 1);
  const a = r.hash('hash');
  const b = r.hash('hash');
  const c = compareStrings(a, b);
  if (c === 0) throw new DecodeError('DECODE_DUPLICATE', 'the two hashes are the same');
  if (c > 0) throw new DecodeError('DECODE_UNSORTED', 'the two hashes are not sorted');
  const entries: Uint8Array[] = [];
  for (let n = r.int('entry count', 0, MAX_EVIDENCE_ITEMS), i = 0; i < n; i++) entries.push(r.bytes(MAX_ITEM_BYTES, 'entry'));
  const checkpoints: Uint8Array[] = [];
  for (let n = r.int('checkpoint count', 0, MAX_EVIDENCE_ITEMS), i = 0; i < n; i++) checkpoints.push(r.bytes(MAX_SIGNATURE_BYTES + 1024, 'checkpoint'));
  r.end('fork evidence');
  return { folder, author, seq, hashes: [a, b], entries, checkpoints };
}
