/** Interns folder id strings as small integers, cached in memory because ids never change. */
import type { Db, Transaction } from './db';
import { checkText } from './codec';
import { inList, valuesList } from './batch-sql';

export class FolderIds {
  private readonly ids = new Map<string, number>();

  constructor(private readonly reader: Db) {}

  /** The id of a folder the store has seen, or undefined (then it has nothing stored for it). */
  async lookup(folder: string): Promise<number | undefined> {
    const cached = this.ids.get(folder);
    if (cached !== undefined) return cached;
    const row = await this.reader.get<{ id: number }>('SELECT id FROM folders WHERE folder = ?', [folder]);
    if (row) this.ids.set(folder, row.id);
    return row?.id;
  }

  /** Like lookup, inside a transaction (so a write queued before close() still finds its folder). */
  async lookupIn(tx: Transaction, folder: string): Promise<number | undefined> {
    const cached = this.ids.get(folder);
    if (cached !== undefined) return cached;
    return (await tx.get<{ id: number }>('SELECT id FROM folders WHERE folder = ?', [folder]))?.id;
  }

  /**
   * Ids for these folders inside the caller's transaction, creating rows for new ones. New ids
   * are cached only once the transaction commits: an id allocated in a transaction that rolls
   * back may be handed to another folder later.
   */
  async ensureIn(tx: Transaction, folders: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const f of new Set(folders)) {
      const id = this.ids.get(f);
      if (id !== undefined) out.set(f, id);
      else missing.push(checkText(f, 'folder'));
    }
    if (missing.length === 0) return out;
    await tx.run(`INSERT OR IGNORE INTO folders(folder) VALUES ${valuesList(missing.length, 1)}`, missing);
    const rows = await tx.all<{ id: number; folder: string }>(`SELECT id, folder FROM folders WHERE folder IN (${inList(missing.length)})`, missing);
    for (const r of rows) out.set(r.folder, r.id);
    tx.afterCommit(() => {
      for (const r of rows) this.ids.set(r.folder, r.id);
    });
    return out;
  }

  async ensureOneIn(tx: Transaction, folder: string): Promise<number> {
    return (await this.ensureIn(tx, [folder])).get(folder)!;
  }
}
