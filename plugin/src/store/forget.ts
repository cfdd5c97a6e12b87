/** Forgetting a folder that this node left: every row of it, in one transaction. */
import type { StoreContext } from './context';

/**
 * Every table that holds rows of a folder. The `folders` row itself stays: interned ids are
 * never deleted (see 001_init.sql), so an id cached in memory stays valid.
 */
const FOLDER_TABLES = [
  'entry_chunks',
  'entry_hashes',
  'entry_hashes_recent',
  'superseded',
  'heads',
  'feeds',
  'checkpoints',
  'manifests',
  'forks',
  'refused_entries',
  'local_files',
  'local_base',
  'block_locations',
  'peer_vectors',
] as const;

export interface ForgetStore {
  /**
   * Removes everything stored of the folder: its log, manifests, heads, refusals, local index
   * and what peers said they have. Joining it again then starts from nothing, as a new member.
   * Returns the rows removed.
   */
  forgetFolder(folder: string): Promise<number>;
}

/** `forgotten` runs after the commit, for the caches that other modules keep of the folder. */
export function forgetStore(ctx: StoreContext, forgotten: (folder: string) => void): ForgetStore {
  const { writer, folders } = ctx;

  async function forgetFolder(folder: string): Promise<number> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return 0;
    let removed = 0;
    await writer.transaction(async (tx) => {
      for (const table of FOLDER_TABLES) removed += (await tx.run(`DELETE FROM ${table} WHERE folder_id = ?`, [fid])).changes;
      tx.afterCommit(() => forgotten(folder));
    });
    return removed;
  }

  return { forgetFolder };
}
