/** The block locations of one file: what apply carries over to the version it keeps of that file. */
import { blobToHash } from './codec';
import type { StoreContext } from './context';
import type { BlockLocation } from './records';

export interface BlockPaths {
  /** Every location recorded in one file, by offset. */
  blockLocationsOf(folder: string, path: string): Promise<BlockLocation[]>;
}

export function blockPaths(ctx: StoreContext): BlockPaths {
  const { reader, folders } = ctx;
  async function blockLocationsOf(folder: string, path: string): Promise<BlockLocation[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<{ hash: Buffer; offset: number; size: number }>(
      'SELECT hash, "offset" AS offset, size FROM block_locations WHERE folder_id = ? AND path = ? ORDER BY "offset"',
      [fid, path],
    );
    return rows.map((r) => ({ hash: blobToHash(r.hash), size: r.size, folder, path, offset: r.offset }));
  }
  return { blockLocationsOf };
}
