/**
 * A folder's status from what the node knows: pure, so the rules can be tested with vectors.
 *
 * "In sync" is the design's rule: caught up with the majority of the writers that have been
 * seen (a writer is seen in our vector or in a vector a peer advertised; we are caught up with
 * it when we hold its feed as far as anyone advertised), and no file waiting for blocks.
 *
 * A peer's vector is what it said in this link's life or, until it speaks again, the last one
 * it said before (kept in the store). Vectors only grow, so an old one is a lower bound of what
 * the peer has: "behind by N" from it is honest, never too high. But it cannot say we are in
 * sync: an online member that has not spoken in this link's life may hold anything, so until
 * it does the folder is `checking`, not `in-sync` (a node restarted after its friends wrote
 * said "in sync" for the moment before their vectors arrived).
 */
import type { FolderState, FolderStatus, PeerStatus } from './types';

/**
 * How long an online peer may stay silent before it is `no-answer` rather than `checking`: its
 * Vector answers ours within a second or two when its Kinfolder runs, so a friend whose host is
 * up without it would otherwise keep the folder "checking" for good.
 */
export const PEER_ANSWER_MS = 30_000;

export interface VectorLike {
  get(author: string): { readonly seq: number } | undefined;
  keys(): Iterable<string>;
}

export interface PeerFacts {
  readonly fingerprint: string;
  readonly name: string;
  readonly online: boolean;
  readonly joined: boolean;
  /** What the peer last advertised having, if it did in this link's life. */
  readonly advertised?: VectorLike;
  /** The last vector it advertised, in this link's life or an earlier one (kept in the store): counted from while `advertised` is missing. */
  readonly lastKnown?: VectorLike;
  /** The peer's refusal of the folder (UNKNOWN_FOLDER, INVITATION_PENDING, DECLINED). */
  readonly refusal?: string;
  readonly openPaths: readonly string[];
  /** How long this link's session has waited for the peer's first word (undefined once it spoke). */
  readonly silentMs?: number;
}

export interface StatusFacts {
  readonly ours: VectorLike;
  readonly peers: readonly PeerFacts[];
  readonly pendingFiles: number;
  readonly pendingBytes: number;
  readonly requestsInFlight: number;
  readonly rateHistory: readonly number[];
  readonly conflicts: number;
}

/**
 * `v` as far as the manifest lets each feed be valid (`maxSeq`: a revoked member's last valid
 * seq): a peer that has not heard of a revocation, or an offline one's last vector from before
 * it, names entries no node will keep, and counting them would leave us behind for good.
 */
export function validPart(v: VectorLike | undefined, maxSeq: (author: string) => number): VectorLike | undefined {
  if (v === undefined) return undefined;
  return {
    get: (author) => {
      const e = v.get(author);
      return e === undefined ? undefined : { seq: Math.min(e.seq, maxSeq(author)) };
    },
    keys: () => v.keys(),
  };
}

/** Entries `a` holds beyond `b`, feed by feed. */
export function entriesBeyond(a: VectorLike, b: VectorLike): number {
  let n = 0;
  for (const author of a.keys()) n += Math.max(0, (a.get(author)?.seq ?? 0) - (b.get(author)?.seq ?? 0));
  return n;
}

/** The peer's vector as far as we know it, and whether it is from this link's life. */
function knownVector(p: PeerFacts): { readonly vector?: VectorLike; readonly from: PeerStatus['vector'] } {
  if (p.advertised) return { vector: p.advertised, from: 'fresh' };
  if (p.lastKnown) return { vector: p.lastKnown, from: 'last-known' };
  return { from: 'none' };
}

export function peerStatus(ours: VectorLike, p: PeerFacts, answerMs = PEER_ANSWER_MS): PeerStatus {
  const known = knownVector(p);
  // Without any vector of the peer's, what it lacks is unknown: counted as nothing, not as all.
  const theyLackEntries = known.vector ? entriesBeyond(ours, known.vector) : 0;
  const weLackEntries = known.vector ? entriesBeyond(known.vector, ours) : 0;
  let state: PeerStatus['state'];
  if (p.refusal === 'DECLINED') state = 'declined';
  else if (!p.online) state = 'offline';
  else if (p.refusal !== undefined || (!p.joined && !p.advertised)) state = 'not-joined';
  else if (!p.advertised) state = (p.silentMs ?? 0) >= answerMs ? 'no-answer' : 'checking';
  else if (weLackEntries > 0) state = 'ahead';
  else if (theyLackEntries > 0) state = 'behind';
  else state = 'in-sync';
  return { fingerprint: p.fingerprint, name: p.name, online: p.online, state, theyLackEntries, weLackEntries, vector: known.from, openPaths: p.online ? p.openPaths : [] };
}

export function folderStatus(f: StatusFacts, answerMs = PEER_ANSWER_MS): FolderStatus {
  const peers = f.peers.map((p) => peerStatus(f.ours, p, answerMs));
  // The furthest any peer advertised, feed by feed: in this link's life or, for a peer that has
  // not spoken since, before it (offline peers' too: what they had, we still lack).
  const furthest = new Map<string, number>();
  for (const a of f.ours.keys()) furthest.set(a, f.ours.get(a)?.seq ?? 0);
  for (const p of f.peers) {
    const { vector } = knownVector(p);
    if (!vector) continue;
    for (const a of vector.keys()) furthest.set(a, Math.max(furthest.get(a) ?? 0, vector.get(a)?.seq ?? 0));
  }
  let caughtUp = 0;
  let behindEntries = 0;
  for (const [a, seq] of furthest) {
    const have = f.ours.get(a)?.seq ?? 0;
    if (have >= seq) caughtUp++;
    else behindEntries += seq - have;
  }
  const rate = f.rateHistory.length > 0 ? f.rateHistory[f.rateHistory.length - 1] : 0;
  // A peer whose Kinfolder does not answer syncs nothing with us: online only for chat.
  const othersOnline = peers.some((p) => p.online && p.state !== 'no-answer');
  const caughtUpByRule = f.pendingFiles === 0 && (furthest.size === 0 || caughtUp * 2 > furthest.size);
  let state: FolderState;
  if (f.peers.length > 0 && !othersOnline) state = 'offline';
  else if (f.requestsInFlight > 0 || (rate > 0 && f.pendingFiles > 0)) state = 'transferring';
  // Behind by what we know already stays behind whatever the vectors to come say (they only
  // add entries we lack), so only "in sync" waits for them.
  else if (!caughtUpByRule) state = 'behind';
  else if (peers.some((p) => p.state === 'checking')) state = 'checking';
  else state = 'in-sync';
  return {
    state,
    behindEntries,
    behindEntriesLastKnown: peers.some((p) => p.vector === 'last-known'),
    behindFiles: f.pendingFiles,
    behindBytes: f.pendingBytes,
    rateBytesPerS: rate,
    rateHistory: f.rateHistory,
    conflicts: f.conflicts,
    peers,
  };
}
