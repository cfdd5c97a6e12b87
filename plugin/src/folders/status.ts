/**
 * A folder's status from what the node knows: pure, so the rules can be tested with vectors.
 *
 * "In sync" is the design's rule: caught up with the majority of the writers that have been
 * seen (a writer is seen in our vector or in a vector a peer advertised; we are caught up with
 * it when we hold its feed as far as anyone advertised), and no file waiting for blocks.
 */
import type { FolderState, FolderStatus, PeerStatus } from './types';

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
  /** The peer's refusal of the folder (UNKNOWN_FOLDER, INVITATION_PENDING, DECLINED). */
  readonly refusal?: string;
  readonly openPaths: readonly string[];
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

/** Entries `a` holds beyond `b`, feed by feed. */
export function entriesBeyond(a: VectorLike, b: VectorLike): number {
  let n = 0;
  for (const author of a.keys()) n += Math.max(0, (a.get(author)?.seq ?? 0) - (b.get(author)?.seq ?? 0));
  return n;
}

const EMPTY: VectorLike = { get: () => undefined, keys: () => [] };

export function peerStatus(ours: VectorLike, p: PeerFacts): PeerStatus {
  const adv = p.advertised ?? EMPTY;
  const theyLackEntries = p.advertised ? entriesBeyond(ours, adv) : 0;
  const weLackEntries = entriesBeyond(adv, ours);
  let state: PeerStatus['state'];
  if (p.refusal === 'DECLINED') state = 'declined';
  else if (!p.online) state = 'offline';
  else if (p.refusal !== undefined || (!p.joined && !p.advertised)) state = 'not-joined';
  else if (weLackEntries > 0) state = 'ahead';
  else if (theyLackEntries > 0) state = 'behind';
  else state = 'in-sync';
  return { fingerprint: p.fingerprint, name: p.name, online: p.online, state, theyLackEntries, weLackEntries, openPaths: p.online ? p.openPaths : [] };
}

export function folderStatus(f: StatusFacts): FolderStatus {
  const peers = f.peers.map((p) => peerStatus(f.ours, p));
  // The furthest any peer advertised, feed by feed.
  const furthest = new Map<string, number>();
  for (const a of f.ours.keys()) furthest.set(a, f.ours.get(a)?.seq ?? 0);
  for (const p of f.peers) {
    if (!p.advertised) continue;
    for (const a of p.advertised.keys()) furthest.set(a, Math.max(furthest.get(a) ?? 0, p.advertised.get(a)?.seq ?? 0));
  }
  let caughtUp = 0;
  let behindEntries = 0;
  for (const [a, seq] of furthest) {
    const have = f.ours.get(a)?.seq ?? 0;
    if (have >= seq) caughtUp++;
    else behindEntries += seq - have;
  }
  const rate = f.rateHistory.length > 0 ? f.rateHistory[f.rateHistory.length - 1] : 0;
  const othersOnline = peers.some((p) => p.online);
  let state: FolderState;
  if (f.peers.length > 0 && !othersOnline) state = 'offline';
  else if (f.requestsInFlight > 0 || (rate > 0 && f.pendingFiles > 0)) state = 'transferring';
  else if (f.pendingFiles === 0 && (furthest.size === 0 || caughtUp * 2 > furthest.size)) state = 'in-sync';
  else state = 'behind';
  return {
    state,
    behindEntries,
    behindFiles: f.pendingFiles,
    behindBytes: f.pendingBytes,
    rateBytesPerS: rate,
    rateHistory: f.rateHistory,
    conflicts: f.conflicts,
    peers,
  };
}
