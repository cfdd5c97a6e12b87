/**
 * Validation of one feed's candidate entries and checkpoints from a peer. An entry is
 * accepted only when its chain links to what is stored, a verified checkpoint covers it, its
 * paths are clean, the manifest lets its author write them at its seq and its Lamport clock
 * follows the rules. Everything else is refused with a typed reason, or deferred when it
 * only waits for a parent from another feed.
 */
import { decodeCheckpoint, decodeHashedEntry, checkpointSigningBytes, encodeCheckpoint } from './encoding';
import { DecodeError } from './errors';
import { lamportViolation, type FeedTip } from './feed';
import { pathProblem, type PathProblem } from './path';
import type { Checkpoint, Entry, Fingerprint, FolderId, ForkEvidence, Hash, HashedEntry, SignatureVerifier, WriteAuthority } from './types';

export type RefusalReason =
  | 'DECODE'
  | 'WRONG_FEED'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_AUTHOR'
  | 'NOT_A_WRITER'
  | 'OUTSIDE_PATH_GRANT'
  | 'REVOKED'
  | 'BROKEN_CHAIN'
  | 'FORK'
  | 'UNCOVERED'
  | 'BAD_PATH'
  | 'BAD_LAMPORT'
  | 'TOO_MANY_CHECKPOINTS';

export interface Refusal {
  /** Which input was refused, by its position in `entries` or `checkpoints`. */
  readonly kind: 'entry' | 'checkpoint';
  readonly index: number;
  readonly reason: RefusalReason;
  readonly detail: string;
  readonly seq?: number;
  readonly hash?: Hash;
  /** For BAD_PATH: what is wrong with the path. */
  readonly pathProblem?: PathProblem;
  /** For DECODE: the decoder's code. */
  readonly decodeCode?: string;
}

/** An entry that may become valid once `missingParents` (from other feeds) are accepted. */
export interface Deferral {
  readonly index: number;
  readonly seq: number;
  readonly hash: Hash;
  readonly missingParents: readonly Hash[];
}

export interface FeedBatch {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  /** The last accepted entry of this feed, or null if none is. */
  readonly tip: FeedTip | null;
  /**
   * Hashes of stored entries of this feed at the given seqs (all below the tip); omit the
   * ones not stored. Asked once per batch, only when entries or checkpoints reach below the
   * tip (a re-send, or a fork). May answer from a database, hence the Promise.
   */
  readonly storedHashes?: (seqs: readonly number[]) => ReadonlyMap<number, Hash> | Promise<ReadonlyMap<number, Hash>>;
  /** The feed already stopped at this seq (a fork): nothing from there on is accepted. */
  readonly forkedAt?: number | null;
  readonly entries: readonly Uint8Array[];
  readonly checkpoints: readonly Uint8Array[];
}

export interface ValidationContext {
  readonly authority: WriteAuthority;
  readonly verifier: SignatureVerifier;
  /**
   * Lamport clocks of accepted entries (of any feed) among `hashes`; leave out the ones not
   * known yet (an entry naming them is deferred). Give 0 for an entry known to be refused,
   * so that naming it as a parent does not stall a feed forever. Asked once per batch.
   */
  readonly parentLamports: (hashes: readonly Hash[]) => ReadonlyMap<Hash, number> | Promise<ReadonlyMap<Hash, number>>;
  readonly signal?: AbortSignal;
  /** Signature checks one batch may cost (default 32): forged checkpoints must not buy CPU. */
  readonly maxSignatureChecks?: number;
}

export interface FeedVerdict {
  /** In seq order; each links to the one before it, the first to the batch's tip. */
  readonly accepted: HashedEntry[];
  /** Verified checkpoints whose entry was accepted, in seq order (store at least the last). */
  readonly checkpoints: Checkpoint[];
  readonly refused: Refusal[];
  readonly deferred: Deferral[];
  /** Set when this batch proved a fork; the feed stops at `fork.seq`. */
  readonly fork: ForkEvidence | null;
  /** The feed's tip after the accepted entries. */
  readonly tip: FeedTip | null;
}

interface Candidate {
  readonly index: number;
  readonly he: HashedEntry;
}

interface VerifiedCheckpoint {
  readonly index: number;
  readonly cp: Checkpoint;
}

/** Validates one feed's batch. Never throws on bad input; throws only if `signal` aborts. */
export async function validateFeed(batch: FeedBatch, ctx: ValidationContext): Promise<FeedVerdict> {
  const refused: Refusal[] = [];
  const deferred: Deferral[] = [];
  const { folder, author, tip } = batch;
  const tipSeq = tip ? tip.seq : 0;
  let stored: ReadonlyMap<number, Hash> = new Map();
  const storedAt = (seq: number): Hash | undefined => (tip && seq === tip.seq ? tip.hash : seq < tipSeq ? stored.get(seq) : undefined);
  const refuse = (r: Refusal): void => void refused.push(r);
  const verdict = (accepted: HashedEntry[], checkpoints: Checkpoint[], fork: ForkEvidence | null, newTip: FeedTip | null): FeedVerdict => ({
    accepted,
    checkpoints,
    refused: refused.sort((a, b) => (a.kind === b.kind ? a.index - b.index : a.kind === 'entry' ? -1 : 1)),
    deferred,
    fork,
    tip: newTip,
  });

  // 1. Decode, and keep only what belongs to this feed.
  const candidates = decodeCandidates(batch, refused);
  const checkpoints: VerifiedCheckpoint[] = [];
  batch.checkpoints.forEach((bytes, index) => {
    let cp: Checkpoint;
    try {
      cp = decodeCheckpoint(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return refuse({ kind: 'checkpoint', index, reason: 'DECODE', detail: err.message, decodeCode: err.code });
    }
    if (cp.folder !== folder || cp.author !== author)
      return refuse({ kind: 'checkpoint', index, reason: 'WRONG_FEED', detail: `checkpoint of ${cp.author} in ${cp.folder}`, seq: cp.seq });
    checkpoints.push({ index, cp });
  });

  // 2. Without the author's key nothing can be verified.
  const key = ctx.authority.publicKeyOf(author);
  if (key === undefined) {
    for (const c of candidates) refuse({ kind: 'entry', index: c.index, reason: 'UNKNOWN_AUTHOR', detail: `${author} is not in the manifest`, seq: c.he.entry.seq, hash: c.he.hash });
    for (const c of checkpoints) refuse({ kind: 'checkpoint', index: c.index, reason: 'UNKNOWN_AUTHOR', detail: `${author} is not in the manifest`, seq: c.cp.seq });
    return verdict([], [], null, tip);
  }

  // What is stored below the tip, for the seqs this batch reaches there (usually none).
  if (tip !== null && batch.storedHashes) {
    const below = seqsBelow(candidates, checkpoints, tipSeq);
    if (below.size > 0) stored = await batch.storedHashes([...below].sort((a, b) => a - b));
  }

  // Candidates by seq, compared by hash: cheaper than a map keyed by 64-character strings.
  // Other entries at an occupied seq (rare: a fork, or junk) go to `extra`, also by seq, so
  // a batch full of junk costs linear time, not quadratic.
  const { atSeq, extra } = bySeq(candidates, tipSeq + 1, batch.entries.length);
  const find = (seq: number, hash: Hash): Candidate | undefined => {
    const first = atSeq.get(seq);
    if (first && first.he.hash === hash) return first;
    const more = extra.get(seq);
    if (more) for (const x of more) if (x.he.hash === hash) return x;
    return undefined;
  };

  // 3. Walk each useful checkpoint down its chain, highest first; verify only checkpoints that
  //    could add something, so a batch costs about one signature check.
  const coveredAt = new BySeq<Candidate>(tipSeq + 1, batch.entries.length); // seq -> entry on a verified chain that links to the tip
  const unlinked = new Set<Hash>(); // on a verified chain with a gap below it
  const verified: VerifiedCheckpoint[] = [];
  const forkSides: { seq: number; a: Hash; b: Hash; cps: Checkpoint[] }[] = [];
  // Chains whose side of a disagreement the manifest refuses: no fork (see below), refused instead.
  const voided = new Map<Hash, Refusal>();
  const sorted = [...checkpoints].sort((x, y) => y.cp.seq - x.cp.seq);
  // What this node already holds at a seq: proven in this batch, or stored.
  const knownAt = (seq: number): Hash | undefined => coveredAt.get(seq)?.he.hash ?? storedAt(seq);
  let checks = 0;
  for (const vc of sorted) {
    const { cp } = vc;
    const known = knownAt(cp.seq);
    if (known === cp.entryHash) continue; // already proven
    const inBatch = find(cp.seq, cp.entryHash);
    if (!inBatch && known === undefined) continue; // covers nothing we hold, contradicts nothing
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    if (checks++ >= (ctx.maxSignatureChecks ?? 32)) {
      refuse({ kind: 'checkpoint', index: vc.index, reason: 'TOO_MANY_CHECKPOINTS', detail: 'this batch already cost its signature checks; send it again in smaller batches', seq: cp.seq });
      continue;
    }
    const ok = await ctx.verifier.verify(key, checkpointSigningBytes(cp), cp.signature);
    if (!ok) {
      refuse({ kind: 'checkpoint', index: vc.index, reason: 'BAD_SIGNATURE', detail: `checkpoint at seq ${cp.seq} does not verify with ${author}'s key`, seq: cp.seq });
      continue;
    }
    verified.push(vc);
    // Walk down through `prev` links until the chain joins what is known. Where it disagrees
    // on the way, the author signed two histories: the lowest disagreement is the fork.
    const { mismatch, chain, linked } = walkChain(inBatch, cp, known, knownAt, find);
    // An author may sign a second entry at a seq whose first one a manifest change removed (a
    // narrowed writer goes on from the cut). What disagrees with this node's valid entry is then
    // an entry the manifest refuses: that is no fork, and the chain above it is refused with it.
    const otherSide = mismatch ? find(mismatch.seq, mismatch.b) : undefined;
    const refusedSide = otherSide ? aclRefusal(otherSide.he, author, ctx.authority) : null;
    if (mismatch && otherSide && refusedSide) {
      const { seq } = otherSide.he.entry;
      for (const c of chain) {
        if (c.he.entry.seq < seq) continue;
        const base = { kind: 'entry' as const, index: c.index, seq: c.he.entry.seq, hash: c.he.hash };
        voided.set(c.he.hash, c === otherSide ? { ...base, ...refusedSide } : { ...base, reason: 'BROKEN_CHAIN', detail: `seq ${c.he.entry.seq} follows refused entry at seq ${seq}` });
      }
    } else if (mismatch) forkSides.push({ ...mismatch, cps: [cp] });
    else if (linked) for (const c of chain) coveredAt.set(c.he.entry.seq, c);
    else for (const c of chain) unlinked.add(c.he.hash);
  }

  // 4. The feed stops at the lowest fork (or where it had already stopped).
  let forkSeq = batch.forkedAt ?? Infinity;
  let fork: ForkEvidence | null = null;
  const lowest = forkSides.reduce<(typeof forkSides)[number] | null>((m, f) => (m === null || f.seq < m.seq ? f : m), null);
  if (lowest && lowest.seq < forkSeq) {
    forkSeq = lowest.seq;
    const [x, y] = lowest.a < lowest.b ? [lowest.a, lowest.b] : [lowest.b, lowest.a];
    // Enough for anyone to check (verifyForkEvidence): every verified checkpoint and the
    // entries from the fork up to them. A side already stored here is completed by the caller.
    const top = verified.reduce((m, v) => Math.max(m, v.cp.seq), lowest.seq);
    const seen = new Set<Hash>();
    const entries: Uint8Array[] = [];
    for (const c of candidates) {
      const q = c.he.entry.seq;
      if (q >= lowest.seq && q <= top && !seen.has(c.he.hash)) {
        seen.add(c.he.hash);
        entries.push(c.he.bytes);
      }
    }
    const cps = verified.map((v) => v.cp);
    fork = { folder, author, seq: lowest.seq, hashes: [x, y], entries, checkpoints: cps.map(encodeCheckpoint) };
  }

  // Lamport clocks of the parents the covered entries name, from outside this batch.
  let outside: ReadonlyMap<Hash, number> = new Map();
  {
    const wanted = parentsOutside(coveredAt, tipSeq, forkSeq);
    if (wanted.size > 0) outside = await ctx.parentLamports([...wanted]);
  }

  // 5. Accept along the covered chain, in seq order, until a rule refuses.
  const { accepted, acceptedFlag, stop } = acceptCovered({ author, authority: ctx.authority, tip, forkSeq, coveredAt, outside, entryCount: batch.entries.length, refused, deferred });
  let newTip = tip;
  if (accepted.length > 0) {
    const last = accepted[accepted.length - 1];
    newTip = { seq: last.entry.seq, hash: last.hash, lamport: last.entry.lamport };
  }

  // 6. Say why every other candidate was not accepted.
  // Whether a candidate reaches the tip through prev links in the batch; memoised, so many
  // uncovered entries cost one walk in all.
  const reaches = new Uint8Array(batch.entries.length); // 0 unknown, 1 yes, 2 no
  const linksDown = (c: Candidate): boolean => {
    const path: Candidate[] = [];
    let cur: Candidate | undefined = c;
    let result = false;
    while (cur) {
      const r = reaches[cur.index];
      if (r !== 0) {
        result = r === 1;
        break;
      }
      path.push(cur);
      const e: Entry = cur.he.entry;
      if (tip === null ? e.seq === 1 : e.seq === tip.seq + 1 && e.prev === tip.hash) {
        result = true;
        break;
      }
      if (e.seq <= 1 || (tip !== null && e.seq <= tip.seq + 1)) break;
      cur = find(e.seq - 1, e.prev as Hash);
    }
    for (const p of path) reaches[p.index] = result ? 1 : 2;
    return result;
  };
  const decided = new Uint8Array(batch.entries.length);
  for (const r of refused) if (r.kind === 'entry') decided[r.index] = 1;
  for (const d of deferred) decided[d.index] = 1;
  const newTipSeq = newTip ? newTip.seq : 0;
  const isAccepted = (seq: number, hash: Hash): boolean => seq > tipSeq && seq <= newTipSeq && coveredAt.get(seq)?.he.hash === hash;
  // Usually every candidate was accepted: candidates are distinct, so equal counts say so.
  for (const c of accepted.length === candidates.length ? [] : candidates) {
    if (acceptedFlag[c.index] === 1 || decided[c.index] === 1 || isAccepted(c.he.entry.seq, c.he.hash)) continue;
    const e = c.he.entry;
    const base = { kind: 'entry' as const, index: c.index, seq: e.seq, hash: c.he.hash };
    const have = storedAt(e.seq);
    if (have === c.he.hash) continue; // already have it
    const voidedAs = voided.get(c.he.hash);
    if (voidedAs) {
      refuse({ ...voidedAs, index: c.index });
      continue;
    }
    if (fork && (e.seq >= forkSeq || fork.hashes.includes(c.he.hash))) {
      refuse({ ...base, reason: 'FORK', detail: `${author}'s feed forked at seq ${forkSeq}` });
    } else if (e.seq >= forkSeq) {
      refuse({ ...base, reason: 'FORK', detail: `${author}'s feed stopped at seq ${forkSeq}` });
    } else if (stop && e.seq > stop.seq && coveredAt.get(e.seq) === c) {
      if (stop.defer) deferred.push({ index: c.index, seq: e.seq, hash: c.he.hash, missingParents: [] });
      else refuse({ ...base, reason: 'BROKEN_CHAIN', detail: stop.why.replace('follows', `seq ${e.seq} follows`) });
    } else if (unlinked.has(c.he.hash)) {
      refuse({ ...base, reason: 'BROKEN_CHAIN', detail: `seq ${e.seq} does not link to seq ${tipSeq}: entries are missing in between` });
    } else if (e.seq <= tipSeq) {
      refuse({ ...base, reason: 'UNCOVERED', detail: have === undefined ? `seq ${e.seq} is at or below the tip (${tipSeq}) and unproven` : `a different entry at stored seq ${e.seq}, without a verified checkpoint` });
    } else if (linksDown(c)) {
      refuse({ ...base, reason: 'UNCOVERED', detail: `no verified checkpoint covers seq ${e.seq}` });
    } else {
      refuse({ ...base, reason: 'BROKEN_CHAIN', detail: `seq ${e.seq} does not link to seq ${tipSeq}` });
    }
  }

  // A loop, not map and filter: map's result has another elements kind when `verified` is
  // empty, and the optimized code that met both threw itself away (a recompile of this function).
  const acceptedCheckpoints: Checkpoint[] = [];
  for (const v of verified) if (isAccepted(v.cp.seq, v.cp.entryHash)) acceptedCheckpoints.push(v.cp);
  acceptedCheckpoints.sort((a, b) => a.seq - b.seq);
  return verdict(accepted, acceptedCheckpoints, fork, newTip);
}

/**
 * Step 1 of validateFeed: the batch's entries decoded, those of another feed or undecodable
 * refused. The per-entry loops of validateFeed live in small functions like this one: in the
 * one big async function, V8 compiled everything they inline into it, twice per catch-up
 * (~180 ms of a compiler thread each time, measured with --trace-opt).
 */
function decodeCandidates(batch: FeedBatch, refused: Refusal[]): Candidate[] {
  const { folder, author, entries } = batch;
  const candidates: Candidate[] = [];
  for (let index = 0; index < entries.length; index++) {
    let he: HashedEntry;
    try {
      he = decodeHashedEntry(entries[index]);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      refused.push({ kind: 'entry', index, reason: 'DECODE', detail: err.message, decodeCode: err.code });
      continue;
    }
    if (he.entry.folder !== folder || he.entry.author !== author) {
      refused.push({ kind: 'entry', index, reason: 'WRONG_FEED', detail: `entry of ${he.entry.author} in ${he.entry.folder}`, seq: he.entry.seq, hash: he.hash });
      continue;
    }
    candidates.push({ index, he });
  }
  return candidates;
}

/** Seqs below the tip that the batch's entries (or the links below them) and checkpoints reach. */
function seqsBelow(candidates: readonly Candidate[], checkpoints: readonly VerifiedCheckpoint[], tipSeq: number): Set<number> {
  const below = new Set<number>();
  for (let i = 0; i < candidates.length; i++) {
    const q = candidates[i].he.entry.seq;
    if (q < tipSeq) below.add(q);
    if (q - 1 >= 1 && q - 1 < tipSeq) below.add(q - 1);
  }
  for (const c of checkpoints) if (c.cp.seq < tipSeq) below.add(c.cp.seq);
  return below;
}

/**
 * Candidates by seq, compared by hash: cheaper than a map keyed by 64-character strings.
 * Other entries at an occupied seq (rare: a fork, or junk) go to `extra`, also by seq, so a
 * batch full of junk costs linear time, not quadratic.
 */
function bySeq(candidates: readonly Candidate[], base: number, size: number): { atSeq: BySeq<Candidate>; extra: Map<number, Candidate[]> } {
  const atSeq = new BySeq<Candidate>(base, size);
  const extra = new Map<number, Candidate[]>();
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const seq = c.he.entry.seq;
    const first = atSeq.get(seq);
    if (!first) atSeq.set(seq, c);
    else if (first.he.hash !== c.he.hash) {
      const more = extra.get(seq);
      if (!more) extra.set(seq, [c]);
      else if (!more.some((x) => x.he.hash === c.he.hash)) more.push(c);
    }
  }
  return { atSeq, extra };
}

/** Parents that the covered entries below the fork name and that are not themselves covered. */
function parentsOutside(coveredAt: BySeq<Candidate>, tipSeq: number, forkSeq: number): Set<Hash> {
  const wanted = new Set<Hash>();
  for (let seq = tipSeq + 1; seq < forkSeq && coveredAt.has(seq); seq++) {
    const parents = (coveredAt.get(seq) as Candidate).he.entry.parents;
    for (let k = 0; k < parents.length; k++) wanted.add(parents[k]);
  }
  if (wanted.size > 0) for (const c of coveredAt.values()) wanted.delete(c.he.hash);
  return wanted;
}

interface Mismatch {
  seq: number;
  a: Hash;
  b: Hash;
}

/**
 * Walks down from a verified checkpoint's entry through `prev` links until the chain joins
 * what is known (`knownAt`) or leaves the batch; `mismatch` is the lowest disagreement with
 * what is known on the way (a fork, unless the manifest refuses that side).
 */
function walkChain(
  inBatch: Candidate | undefined,
  cp: Checkpoint,
  known: Hash | undefined,
  knownAt: (seq: number) => Hash | undefined,
  find: (seq: number, hash: Hash) => Candidate | undefined,
): { mismatch: Mismatch | null; chain: Candidate[]; linked: boolean } {
  let mismatch: Mismatch | null = known !== undefined ? { seq: cp.seq, a: known, b: cp.entryHash } : null;
  const chain: Candidate[] = [];
  let linked = false;
  let cur: Candidate | undefined = inBatch;
  let expected = cp.seq;
  while (cur && cur.he.entry.seq === expected) {
    const e = cur.he.entry;
    const k = knownAt(e.seq);
    if (k !== undefined && k !== cur.he.hash) mismatch = { seq: e.seq, a: k, b: cur.he.hash };
    chain.push(cur);
    if (e.seq === 1) {
      linked = true; // prev is null: nothing below to disagree with
      break;
    }
    const kp = knownAt(e.seq - 1);
    if (kp !== undefined) {
      if (kp === e.prev) {
        linked = true;
        break;
      }
      mismatch = { seq: e.seq - 1, a: kp, b: e.prev as Hash };
    }
    cur = find(e.seq - 1, e.prev as Hash);
    expected = e.seq - 1;
  }
  return { mismatch, chain, linked };
}

interface AcceptInput {
  readonly author: Fingerprint;
  readonly authority: WriteAuthority;
  readonly tip: FeedTip | null;
  readonly forkSeq: number;
  readonly coveredAt: BySeq<Candidate>;
  /** Lamport clocks of parents from outside the batch. */
  readonly outside: ReadonlyMap<Hash, number>;
  readonly entryCount: number;
  readonly refused: Refusal[];
  readonly deferred: Deferral[];
}

/** Step 5 of validateFeed: accepts along the covered chain, in seq order, until a rule refuses or an entry waits for parents. */
function acceptCovered(input: AcceptInput): { accepted: HashedEntry[]; acceptedFlag: Uint8Array; stop: { seq: number; why: string; defer: boolean } | null } {
  const { author, authority, tip, forkSeq, coveredAt, outside, refused, deferred } = input;
  const tipSeq = tip ? tip.seq : 0;
  const accepted: HashedEntry[] = [];
  const acceptedFlag = new Uint8Array(input.entryCount);
  // A parent earlier in this same batch is known once accepted; the index is built only when
  // some entry names parents (a first scan names none).
  let acceptedByHash: Map<Hash, number> | null = null;
  const lamportInBatch = (ph: Hash): number | undefined => {
    acceptedByHash ??= new Map(accepted.map((x) => [x.hash, x.entry.lamport]));
    return acceptedByHash.get(ph);
  };
  let stop: { seq: number; why: string; defer: boolean } | null = null;
  // Per entry, nothing is allocated unless something is wrong: this loop runs for every entry of a catch-up.
  const noClocks: number[] = [];
  let lastLamport = tip ? tip.lamport : null;
  const entryRefusal = (c: Candidate, seq: number) => ({ kind: 'entry' as const, index: c.index, seq, hash: c.he.hash });
  for (let seq = tipSeq + 1; seq < forkSeq && coveredAt.has(seq); seq++) {
    const c = coveredAt.get(seq) as Candidate;
    const e = c.he.entry;
    let problem: Refusal | null = null;
    // A body's one or two paths read in place: pathsOf made an array per entry, twice.
    const b = e.body;
    const first = b.op === 'move' ? b.from : b.path;
    const second = b.op === 'move' ? b.to : null;
    const pp = pathProblem(first) ?? (second === null ? null : pathProblem(second));
    if (pp !== null) {
      const p = pathProblem(first) !== null ? first : (second as string);
      problem = { ...entryRefusal(c, seq), reason: 'BAD_PATH', detail: `path ${JSON.stringify(p)}: ${pp}`, pathProblem: pp };
    }
    if (!problem) {
      const acl = writeRefusal(authority, author, first, second, seq);
      if (acl) problem = { ...entryRefusal(c, seq), ...acl };
    }
    if (!problem) {
      let parentClocks = noClocks;
      let missing: Hash[] | null = null;
      if (e.parents.length > 0) {
        parentClocks = [];
        for (const ph of e.parents) {
          const l = lamportInBatch(ph) ?? outside.get(ph);
          if (l === undefined) (missing ??= []).push(ph);
          else parentClocks.push(l);
        }
      }
      const bad = lamportViolation(e, lastLamport, parentClocks);
      if (bad !== null) problem = { ...entryRefusal(c, seq), reason: 'BAD_LAMPORT', detail: bad };
      else if (missing !== null) {
        deferred.push({ index: c.index, seq, hash: c.he.hash, missingParents: missing });
        stop = { seq, why: 'waits for parents', defer: true };
        break;
      }
    }
    if (problem) {
      refused.push(problem);
      stop = { seq, why: `follows refused entry at seq ${seq}`, defer: false };
      break;
    }
    accepted.push(c.he);
    acceptedFlag[c.index] = 1;
    (acceptedByHash as Map<Hash, number> | null)?.set(c.he.hash, e.lamport);
    lastLamport = e.lamport;
  }
  return { accepted, acceptedFlag, stop };
}

/** The manifest's refusal of an entry (the first of its paths it refuses), or null. */
function aclRefusal(he: HashedEntry, author: Fingerprint, authority: WriteAuthority): { reason: RefusalReason; detail: string } | null {
  const b = he.entry.body;
  return b.op === 'move' ? writeRefusal(authority, author, b.from, b.to, he.entry.seq) : writeRefusal(authority, author, b.path, null, he.entry.seq);
}

/** The manifest's refusal of a write of `first` (then `second`, if any) at `seq`, or null. */
function writeRefusal(authority: WriteAuthority, author: Fingerprint, first: string, second: string | null, seq: number): { reason: RefusalReason; detail: string } | null {
  const d = authority.mayWrite(author, first, seq);
  if (!d.ok) return { reason: d.reason, detail: d.detail };
  if (second === null) return null;
  const d2 = authority.mayWrite(author, second, seq);
  return d2.ok ? null : { reason: d2.reason, detail: d2.detail };
}

/**
 * Values by seq: in an array for the seqs a batch is expected to hold (from its tip on, as
 * many as it has entries), in a Map for any other. A Map per batch keyed by every seq cost
 * ~110 bytes of garbage per entry in a catch-up (its tables, rebuilt as it grew).
 */
class BySeq<T> {
  private readonly dense: (T | undefined)[];
  private sparse: Map<number, T> | null = null;

  constructor(
    private readonly base: number,
    size: number,
  ) {
    this.dense = new Array<T | undefined>(size).fill(undefined);
  }

  get(seq: number): T | undefined {
    const i = seq - this.base;
    return i >= 0 && i < this.dense.length ? this.dense[i] : this.sparse?.get(seq);
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  set(seq: number, value: T): void {
    const i = seq - this.base;
    if (i >= 0 && i < this.dense.length) this.dense[i] = value;
    else (this.sparse ??= new Map()).set(seq, value);
  }

  /** Every value, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.dense.length; i++) if (this.dense[i] !== undefined) out.push(this.dense[i] as T);
    if (this.sparse) for (const v of this.sparse.values()) out.push(v);
    return out;
  }
}
