/** Where blocks can be read on this node, so a transfer reuses local data before asking peers. */
import { chunks, inList, insertChunks, valuesList } from './batch-sql';
import { blobToHash, checkSeq, checkText, hashToBlob } from './codec';
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

export function blockIndex(ctx: StoreContext): BlockIndex {
  const { writer, reader, folders } = ctx;

  async function addBlockLocations(locations: readonly BlockLocation[]): Promise<void> {
    if (locations.length === 0) return;
    const rows = locations.map((l) => [
      hashToBlob(l.hash, 'block.hash'),
      checkText(l.folder, 'block.folder'),
      checkText(l.path, 'block.path'),
      checkSeq(l.offset, 'block.offset'),
      checkSeq(l.size, 'block.size'),
    ]);
    await writer.transaction(async (tx) => {
      const ids = await folders.ensureIn(tx, locations.map((l) => l.folder));
      for (const r of rows) r[1] = ids.get(r[1] as string)!;
      await insertChunks(
        tx,
        rows,
        (n) => `INSERT INTO block_locations(hash, folder_id, path, "offset", size) VALUES ${valuesList(n, 5)}
                ON CONFLICT DO UPDATE SET size = excluded.size`,
      );
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
    for (const chunk of chunks([...new Set(hashes)])) {
      const rows = await reader.all<{ hash: Buffer; folder: string; path: string; offset: number; size: number }>(
        `SELECT hash, folder, path, "offset", size FROM (
           SELECT b.hash, f.folder, b.path, b."offset" AS "offset", b.size,
                  ROW_NUMBER() OVER (PARTITION BY b.hash ORDER BY f.folder, b.path, b."offset") AS n
           FROM block_locations b JOIN folders f ON f.id = b.folder_id WHERE b.hash IN (${inList(chunk.length)}))
         WHERE n <= ? ORDER BY hash, n`,
        [...chunk.map((h) => hashToBlob(h, 'hash')), limit],
      );
      for (const r of rows) {
        const hash = blobToHash(r.hash);
        let list = out.get(hash);
        if (list === undefined) out.set(hash, (list = []));
        list.push({ hash, size: r.size, folder: r.folder, path: r.path, offset: r.offset });
      }
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
