/**
 * The folder state hash from a stream of (path, heads) rows, without holding the folder in
 * memory: only the open directories of the current path are kept. Gives exactly
 * `FolderState.stateHash()` for the same heads, so a store can compute it from its tables.
 */
import { compareUtf8 } from './codec';
import { LogError } from './errors';
import { compareHeads, nodeHash, type Touch } from './state';
import type { Hash } from './types';

export interface PathHeads {
  readonly path: string;
  /** The heads of the path, in any order. */
  readonly heads: readonly Touch[];
}

/**
 * The order rows must come in: by this key in UTF-8 byte order. It is the path with '/' as
 * U+0001, so a directory's subtree comes right after it and before a sibling such as
 * `a.txt` (clean paths never hold U+0001). In SQLite:
 * `ORDER BY replace(path, '/', char(1))` with the default BINARY collation.
 */
export const stateSortKey = (path: string): string => path.replaceAll('/', '\u0001');

interface Frame {
  readonly name: string;
  own: readonly Touch[];
  readonly kids: [string, string][];
}

export async function stateHashOfSorted(rows: Iterable<PathHeads> | AsyncIterable<PathHeads>, signal?: AbortSignal): Promise<Hash> {
  const stack: Frame[] = [{ name: '', own: [], kids: [] }];
  const close = (): void => {
    const f = stack.pop() as Frame;
    const h = nodeHash(f.own, f.kids, false);
    if (h.length > 0) stack[stack.length - 1].kids.push([f.name, h]);
  };
  let prevKey: string | null = null;
  let n = 0;
  const take = (row: PathHeads): void => {
    if ((++n & 4095) === 0) signal?.throwIfAborted();
    const key = stateSortKey(row.path);
    if (prevKey !== null && !(compareUtf8(prevKey, key) < 0)) throw new LogError('STATE_UNSORTED', `path ${JSON.stringify(row.path)} comes out of order (or twice)`);
    prevKey = key;
    const segs = row.path.split('/');
    // Keep the open directories this path shares, close the rest.
    let common = 0;
    while (common < segs.length && common + 1 < stack.length && stack[common + 1].name === segs[common]) common++;
    while (stack.length > common + 1) close();
    for (let i = common; i < segs.length; i++) stack.push({ name: segs[i], own: [], kids: [] });
    stack[stack.length - 1].own = row.heads.length <= 1 ? row.heads : [...row.heads].sort(compareHeads);
  };
  // A plain iterable is walked without a promise per row.
  if (Symbol.asyncIterator in rows) for await (const row of rows as AsyncIterable<PathHeads>) take(row);
  else for (const row of rows as Iterable<PathHeads>) take(row);
  while (stack.length > 1) close();
  return nodeHash([], stack[0].kids, true);
}
