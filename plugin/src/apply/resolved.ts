/**
 * What apply needs to know about a path's resolution: the winner's and losers' metadata,
 * looked up by entry hash. The log's path state keeps heads small (hash, clock, author), so
 * the entries themselves come from the store through an `EntryLookup`.
 */
import { decodeEntry, type Entry, type FileMeta, type Hash } from '../log';
import type { EntryStore } from '../store';
import { ApplyError } from './errors';

/** The part of a log head apply relies on. */
export interface HeadRef {
  readonly hash: Hash;
  readonly live: boolean;
}

/** The part of a log `PathResolution` apply relies on. */
export interface ResolutionRef {
  readonly path: string;
  readonly winner: HeadRef;
  readonly losers: readonly HeadRef[];
  /** Every head, dead ones too (absent when the caller does not know them). */
  readonly heads?: readonly HeadRef[];
}

export type EntryLookup = (hash: Hash) => Entry | undefined | Promise<Entry | undefined>;

export interface ResolvedVersion {
  readonly hash: Hash;
  readonly author: string;
  readonly wallTimeMs: number;
  /** What the version puts at the path; undefined for a deletion. */
  readonly meta?: FileMeta;
  /** The winner is a move from this path (its content may be renamed instead of rebuilt). */
  readonly moveFrom?: string;
  /** The entries this version supersedes (what its copies, if any, were). */
  readonly parents?: readonly Hash[];
}

export interface ResolvedPath {
  readonly path: string;
  readonly winner: ResolvedVersion;
  /** Live heads that lost: each becomes a conflict copy. */
  readonly losers: readonly ResolvedVersion[];
  /** How many heads the path has, dead ones too (absent when unknown): one with no parents means nothing was ever superseded here. */
  readonly heads?: number;
}

/** One entry as seen from `path` (pure). */
export function versionAt(path: string, hash: Hash, entry: Entry): ResolvedVersion {
  const b = entry.body;
  // Literals, not `{ ...base, meta }`: V8 (Node 20) gives nearly every spread copy a hidden
  // class of its own, ~250 bytes more per object; an apply of a 100k-file folder holds 200k.
  if (b.op === 'put' && b.path === path) return { hash, author: entry.author, wallTimeMs: entry.wallTimeMs, parents: entry.parents, meta: b.meta };
  if (b.op === 'move' && b.to === path) return { hash, author: entry.author, wallTimeMs: entry.wallTimeMs, parents: entry.parents, meta: b.meta, moveFrom: b.from !== b.to ? b.from : undefined };
  return { hash, author: entry.author, wallTimeMs: entry.wallTimeMs, parents: entry.parents };
}

/** Shared by the many resolutions without losers (one empty array each was 16 bytes and an allocation). */
const NO_LOSERS: readonly ResolvedVersion[] = Object.freeze([]);

/** Fills a resolution in with its entries; a head whose entry is unknown here is an error for that path. */
export async function resolveWith(res: ResolutionRef, entryOf: EntryLookup): Promise<ResolvedPath> {
  const one = async (h: HeadRef): Promise<ResolvedVersion> => {
    const e = await entryOf(h.hash);
    if (e === undefined) throw new ApplyError('APPLY_ENTRY_UNKNOWN', `${res.path}: head ${h.hash} is not in the store`);
    const v = versionAt(res.path, h.hash, e);
    return h.live ? v : { hash: v.hash, author: v.author, wallTimeMs: v.wallTimeMs, parents: v.parents };
  };
  const winner = await one(res.winner);
  const losers = res.losers.length === 0 ? NO_LOSERS : await Promise.all(res.losers.filter((l) => l.live).map(one));
  return res.heads === undefined ? { path: res.path, winner, losers } : { path: res.path, winner, losers, heads: res.heads.length };
}

/** An EntryLookup over the store's entries (decoded from their canonical bytes). */
export function entryLookup(store: Pick<EntryStore, 'entry'>): EntryLookup {
  return async (hash) => {
    const r = await store.entry(hash);
    return r === undefined ? undefined : decodeEntry(r.bytes);
  };
}
