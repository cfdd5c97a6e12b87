/**
 * Feeds: one hash-chained run of entries per (folder, author). Chain links, Lamport rules,
 * version vectors and their differences, and fork evidence. Pure functions over data.
 */
import { compareStrings } from './codec';
import { canonicalParents, hashEntry } from './encoding';
import { LogError } from './errors';
import type { Entry, EntryBody, FeedHead, Fingerprint, FolderId, ForkEvidence, Hash, HashedEntry, SeqRange, VersionVector } from './types';

/** The last accepted entry of a feed: what the next entry must link to. */
export interface FeedTip {
  readonly seq: number;
  readonly hash: Hash;
  readonly lamport: number;
}

/** A parent as the author saw it: its hash and its Lamport clock. */
export interface ParentRef {
  readonly hash: Hash;
  readonly lamport: number;
}

/** True when `entry` is the next one after `tip` (or the first of the feed when tip is null). */
export function linksTo(entry: Entry, tip: FeedTip | null): boolean {
  return tip === null ? entry.seq === 1 && entry.prev === null : entry.seq === tip.seq + 1 && entry.prev === tip.hash;
}

/**
 * The Lamport rule: an entry's clock is greater than its author's previous entry's and than
 * every parent's it knows. Returns the offending clock, or null when the rule holds.
 */
export function lamportViolation(entry: Entry, prevLamport: number | null, parentLamports: readonly number[]): string | null {
  if (prevLamport !== null && entry.lamport <= prevLamport) return `lamport ${entry.lamport} <= previous entry's ${prevLamport}`;
  for (const l of parentLamports) if (entry.lamport <= l) return `lamport ${entry.lamport} <= a parent's ${l}`;
  return null;
}

/** What the author decides for a new local change; the feed fills in seq, prev and lamport. */
export interface NewChange {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  readonly wallTimeMs: number;
  readonly body: EntryBody;
  readonly parents: readonly ParentRef[];
}

/** Builds the entry that follows `tip` with the smallest clock the Lamport rule allows. */
export function nextEntry(tip: FeedTip | null, change: NewChange): HashedEntry {
  return tip === null ? entryAfter(0, null, 0, change) : entryAfter(tip.seq, tip.hash, tip.lamport, change);
}

const NO_PARENTS: readonly Hash[] = Object.freeze([]);

/**
 * nextEntry with the tip's fields as arguments: a run of local changes chains its entries
 * without a tip object per entry.
 */
export function entryAfter(seq: number, hash: Hash | null, lamport: number, change: NewChange): HashedEntry {
  let l = lamport;
  const ps = change.parents;
  for (let i = 0; i < ps.length; i++) if (ps[i].lamport > l) l = ps[i].lamport;
  return hashEntry({
    folder: change.folder,
    author: change.author,
    seq: seq + 1,
    prev: hash,
    lamport: l + 1,
    wallTimeMs: change.wallTimeMs,
    parents: ps.length === 0 ? NO_PARENTS : canonicalParents(ps.map((p) => p.hash)),
    body: change.body,
  });
}

/** The tip after appending `e` to the feed at `tip`; throws if it does not link. */
export function advance(tip: FeedTip | null, e: HashedEntry): FeedTip {
  if (!linksTo(e.entry, tip)) throw new LogError('FEED_NOT_NEXT', `entry ${e.entry.seq} does not follow ${tip ? tip.seq : 'the start'}`);
  if (tip !== null && e.entry.lamport <= tip.lamport) throw new LogError('FEED_BAD_LAMPORT', `lamport ${e.entry.lamport} <= ${tip.lamport}`);
  return { seq: e.entry.seq, hash: e.hash, lamport: e.entry.lamport };
}

/**
 * What `have` lacks from `other`: per author, the seqs `other` has beyond `have`. An author
 * at the same seq with a different head is listed in `divergent` (a fork somewhere, or
 * one side's feed stopped): ranges can not repair that, the fork evidence must travel.
 */
export function missingFrom(have: VersionVector, other: VersionVector): { ranges: SeqRange[]; divergent: Fingerprint[] } {
  const ranges: SeqRange[] = [];
  const divergent: Fingerprint[] = [];
  const authors = [...other.keys()].sort(compareStrings);
  for (const author of authors) {
    const theirs = other.get(author) as FeedHead;
    const mine = have.get(author);
    const mySeq = mine ? mine.seq : 0;
    if (theirs.seq > mySeq) ranges.push({ author, fromSeq: mySeq + 1, toSeq: theirs.seq });
    else if (mine && theirs.seq === mine.seq && theirs.head !== mine.head) divergent.push(author);
  }
  return { ranges, divergent };
}

/** Per author the further of the two heads (same seq: `a`'s). */
export function mergeVectors(a: VersionVector, b: VersionVector): Map<Fingerprint, FeedHead> {
  const out = new Map(a);
  for (const [author, head] of b) {
    const mine = out.get(author);
    if (!mine || head.seq > mine.seq) out.set(author, head);
  }
  return out;
}

/** Fork evidence from two entries at one (author, seq), or null if they are not a fork. */
export function forkBetween(a: HashedEntry, b: HashedEntry, checkpoints: readonly Uint8Array[] = []): ForkEvidence | null {
  const x = a.entry;
  const y = b.entry;
  if (x.folder !== y.folder || x.author !== y.author || x.seq !== y.seq || a.hash === b.hash) return null;
  const [first, second] = a.hash < b.hash ? [a, b] : [b, a];
  return { folder: x.folder, author: x.author, seq: x.seq, hashes: [first.hash, second.hash], entries: [first.bytes, second.bytes], checkpoints };
}
