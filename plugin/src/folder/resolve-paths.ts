/**
 * The resolutions an apply run needs, by the log's rule (the heads of a path ranked by
 * `compareHeads`: live first, then Lamport clock, author, hash), read the cheap way: entries
 * come through the caller's lookup (which holds what was just received in memory), the heads
 * of a run's paths in a few queries, and a large run streams the heads of the whole folder
 * once instead.
 */
import { compareHeads, touchesOf, type Entry, type Hash } from '../log';
import { ApplyError, isApplyError, resolveWith, type EntryLookup, type ResolvedPath } from '../apply';
import { mapLimit } from '../scan';
import type { EntryStore, HeadRef } from '../store';

/** Runs with more paths than this read the folder's heads in one stream (without a batched lookup). */
const STREAM_FROM = 1024;
/** With a batched lookup, only runs this large stream (a start's apply of a whole folder): a catch-up's runs of a few thousand paths must not each cost the folder's size. */
const STREAM_BATCHED_FROM = 20_000;
/** Point queries queued on the store at once. */
const AT_ONCE = 64;

/**
 * The winner's hash at a path that has no version any more: every entry that touched it was
 * removed by a manifest change (see FeedCutReport). Apply deletes what it wrote there.
 */
export const NO_VERSION = '';

export interface ResolvedPaths {
  readonly resolved: ResolvedPath[];
  /** Paths whose heads name an entry the store does not have. */
  readonly refused: Array<{ path: string; error: ApplyError }>;
}

export async function resolvePaths(
  store: Pick<EntryStore, 'heads' | 'pathsWithHeads' | 'headsAt'>,
  folder: string,
  paths: readonly string[],
  entryOf: EntryLookup,
  signal?: AbortSignal,
  /** Paths whose entries were removed: with no heads left, they resolve to NO_VERSION, not to nothing. */
  emptied: ReadonlySet<string> = new Set(),
  /** The heads' entries in one call (those it leaves out go through entryOf). */
  entriesOf?: (hashes: readonly Hash[]) => Promise<ReadonlyMap<Hash, Entry>>,
): Promise<ResolvedPaths> {
  const headsOf = new Map<string, readonly HeadRef[]>();
  if (paths.length > (store.headsAt !== undefined ? STREAM_BATCHED_FROM : STREAM_FROM)) {
    const wanted = new Set(paths);
    for await (const ph of store.pathsWithHeads(folder, { signal })) if (wanted.has(ph.path)) headsOf.set(ph.path, ph.heads);
  } else if (store.headsAt !== undefined) {
    const found = await store.headsAt(folder, paths);
    for (const p of paths) headsOf.set(p, found.get(p) ?? []);
  } else {
    const lists = await mapLimit(paths, AT_ONCE, (p) => store.heads(folder, p));
    paths.forEach((p, i) => headsOf.set(p, lists[i]));
  }
  let lookup = entryOf;
  if (entriesOf !== undefined) {
    const hashes = new Set<Hash>();
    for (const heads of headsOf.values()) for (const h of heads) hashes.add(h.hash);
    const got = await entriesOf([...hashes]);
    lookup = (h) => got.get(h) ?? entryOf(h);
  }
  const resolved: ResolvedPath[] = [];
  const refused: ResolvedPaths['refused'] = [];
  const results = await mapLimit([...headsOf], AT_ONCE, async ([p, heads]) => {
    try {
      if (heads.length === 0 && emptied.has(p)) return { path: p, winner: { hash: NO_VERSION, author: '', wallTimeMs: 0 }, losers: [], heads: 0 };
      return await resolveOne(p, heads, lookup);
    } catch (e) {
      if (!isApplyError(e, 'APPLY_ENTRY_UNKNOWN')) throw e;
      refused.push({ path: p, error: e });
      return undefined;
    }
  });
  for (const r of results) if (r !== undefined) resolved.push(r);
  return { resolved, refused };
}

async function resolveOne(p: string, heads: readonly HeadRef[], entryOf: EntryLookup): Promise<ResolvedPath | undefined> {
  if (heads.length === 0) return undefined;
  const entries = new Map<Hash, Entry>();
  const touches = [];
  for (const h of heads) {
    const e = await entryOf(h.hash);
    if (e === undefined) throw new ApplyError('APPLY_ENTRY_UNKNOWN', `${p}: head ${h.hash} is not in the store`);
    entries.set(h.hash, e);
    const live = touchesOf(e).some((t) => t.path === p && t.live);
    touches.push({ hash: h.hash, author: h.author, lamport: h.lamport, live, wallTimeMs: e.wallTimeMs });
  }
  touches.sort(compareHeads);
  const [winner, ...rest] = touches;
  return resolveWith({ path: p, winner, losers: rest.filter((t) => t.live), heads: touches }, (h) => entries.get(h));
}
