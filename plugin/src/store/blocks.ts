/** Where blocks can be read on this node, so a transfer reuses local data before asking peers. */
import { blobToHash, checkHash, checkSeq, checkText, hashToBlob, writeHash } from './codec';
import type { StoreContext } from './context';
import type { BlockLocation } from './records';

export interface BlockIndex {
  /** Adds locations (one transaction); a location already known has its size replaced. */
  addBlockLocations(locations: readonly BlockLocation[]): Promise<void>;
  /** Forgets every block of one file (it changed or was deleted). Returns how many were removed. */
  removeBlockLocations(folder: string, path: string): Promise<number>;
  /** Up to `limit` places to read the block from, ordered by folder, path, offset. */
  findBlock(hash: string, limit?: number): Promise<BlockLocation[]>;
  /** findBlock for many hashes in a few queries; a hash found nowhere is absent from the map. */
  findBlocks(hashes: readonly string[], limit?: number): Promise<Map<string, BlockLocation[]>>;
  /** Up to `limit` blocks of one file after `offset`, in order: where a reader of the file goes next. */
  blocksAfter(folder: string, path: string, offset: number, limit?: number): Promise<BlockLocation[]>;
}

/** addBlockLocations: ?1 is a JSON array of [hash (hex), folder id, path, offset, size]. */
const ADD_LOCATIONS_SQL = `INSERT INTO block_locations(hash, folder_id, path, "offset", size)
  SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1) WHERE true
  ON CONFLICT DO UPDATE SET size = excluded.size`;

/** findBlocks: ?1 is the hashes' 32-byte values one after the other, ?2 the locations per hash. */
const FIND_BLOCKS_SQL = `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < length(?1) / 32)
  SELECT hash, folder, path, "offset", size FROM (
    SELECT b.hash, f.folder, b.path, b."offset" AS "offset", b.size,
           ROW_NUMBER() OVER (PARTITION BY b.hash ORDER BY f.folder, b.path, b."offset") AS n
    FROM block_locations b JOIN folders f ON f.id = b.folder_id WHERE b.hash IN (SELECT substr(?1, i * 32 + 1, 32) FROM k))
  WHERE n <= ?2 ORDER BY hash, n`;

export function blockIndex(ctx: StoreContext): BlockIndex {
  const { writer, reader, folders } = ctx;

  async function addBlockLocations(locations: readonly BlockLocation[]): Promise<void> {
    if (locations.length === 0) return;
    // Checked here, sent as one JSON text: binding five values a row (a new small file's
    // location is one row) cost the receiving sidecar's main thread more than the insert.
    const rows = locations.map((l) => [checkHash(l.hash, 'block.hash'), checkText(l.folder, 'block.folder') as string | number, checkText(l.path, 'block.path'), checkSeq(l.offset, 'block.offset'), checkSeq(l.size, 'block.size')]);
    await writer.transaction(async (tx) => {
      const ids = await folders.ensureIn(tx, locations.map((l) => l.folder));
      for (const r of rows) r[1] = ids.get(r[1] as string)!;
      await tx.run(ADD_LOCATIONS_SQL, [JSON.stringify(rows)]);
    });
  }

  async function removeBlockLocations(folder: string, path: string): Promise<number> {
    return writer.transaction(async (tx) => {
      const fid = await folders.lookupIn(tx, folder);
      return fid === undefined ? 0 : (await tx.run('DELETE FROM block_locations WHERE folder_id = ? AND path = ?', [fid, path])).changes;
    });
  }

  async function findBlock(hash: string, limit = 16): Promise<BlockLocation[]> {
    const rows = await reader.all<{ hash: Buffer; folder: string; path: string; offset: number; size: number }>(
      `SELECT b.hash, f.folder, b.path, b."offset" AS offset, b.size FROM block_locations b JOIN folders f ON f.id = b.folder_id
       WHERE b.hash = ? ORDER BY f.folder, b.path, b."offset" LIMIT ?`,
      [hashToBlob(hash, 'hash'), limit],
    );
    return rows.map((r) => ({ hash: blobToHash(r.hash), size: r.size, folder: r.folder, path: r.path, offset: r.offset }));
  }

  async function findBlocks(hashes: readonly string[], limit = 16): Promise<Map<string, BlockLocation[]>> {
    const out = new Map<string, BlockLocation[]>();
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return out;
    // The hashes go as one blob, split in SQL: one statement of one shape for any number of
    // them. A receiver looks up every new block (nearly all misses), and the IN list of
    // chunks (up to ten statements a batch, a bound blob per hash) cost ~8% of its main thread.
    const packed = Buffer.allocUnsafe(unique.length * 32);
    unique.forEach((h, i) => writeHash(h, packed, i * 32, 'hash'));
    const rows = await reader.all<{ hash: Buffer; folder: string; path: string; offset: number; size: number }>(FIND_BLOCKS_SQL, [packed, limit]);
    for (const r of rows) {
      const hash = blobToHash(r.hash);
      let list = out.get(hash);
      if (list === undefined) out.set(hash, (list = []));
      list.push({ hash, size: r.size, folder: r.folder, path: r.path, offset: r.offset });
    }
    return out;
  }

  async function blocksAfter(folder: string, path: string, offset: number, limit = 1024): Promise<BlockLocation[]> {
    const rows = await reader.all<{ hash: Buffer; offset: number; size: number }>(
      `SELECT b.hash, b."offset" AS offset, b.size FROM block_locations b JOIN folders f ON f.id = b.folder_id
       WHERE f.folder = ? AND b.path = ? AND b."offset" > ? ORDER BY b."offset" LIMIT ?`,
      [checkText(folder, 'folder'), checkText(path, 'path'), offset, limit],
    );
    return rows.map((r) => ({ hash: blobToHash(r.hash), size: r.size, folder, path, offset: r.offset }));
  }

  return { addBlockLocations, removeBlockLocations, findBlock, findBlocks, blocksAfter };
}
