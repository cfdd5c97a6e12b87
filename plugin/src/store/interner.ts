/** Interns strings that every big row repeats (folder ids, author fingerprints) as small integers, cached because ids never change. */
import type { Db, Transaction } from './db';
import { checkText } from './codec';
import { inList, valuesList } from './batch-sql';

export class Interner {
  private readonly ids = new Map<string, number>();

  /** `table` has columns `id INTEGER PRIMARY KEY` and `column TEXT UNIQUE`; both are fixed identifiers, never user input. */
  constructor(
    private readonly reader: Db,
    private readonly table: 'folders' | 'authors',
    private readonly column: 'folder' | 'author',
  ) {}

  /** The id of a string the store has seen, or undefined (then nothing is stored under it). */
  async lookup(value: string): Promise<number | undefined> {
    const cached = this.ids.get(value);
    if (cached !== undefined) return cached;
    const row = await this.reader.get<{ id: number }>(`SELECT id FROM ${this.table} WHERE ${this.column} = ?`, [value]);
    if (row) this.ids.set(value, row.id);
    return row?.id;
  }

  /** Like lookup, inside a transaction (so a write queued before close() still finds its ids). */
  async lookupIn(tx: Transaction, value: string): Promise<number | undefined> {
    const cached = this.ids.get(value);
    if (cached !== undefined) return cached;
    return (await tx.get<{ id: number }>(`SELECT id FROM ${this.table} WHERE ${this.column} = ?`, [value]))?.id;
  }

  /**
   * Ids for these values inside the caller's transaction, creating rows for new ones. New ids
   * are cached only once the transaction commits: an id allocated in a transaction that rolls
   * back may later be handed to another value.
   */
  async ensureIn(tx: Transaction, values: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const v of new Set(values)) {
      const id = this.ids.get(v);
      if (id !== undefined) out.set(v, id);
      else missing.push(checkText(v, this.column));
    }
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      await tx.run(`INSERT OR IGNORE INTO ${this.table}(${this.column}) VALUES ${valuesList(chunk.length, 1)}`, chunk);
      const rows = await tx.all<{ id: number; value: string }>(
        `SELECT id, ${this.column} AS value FROM ${this.table} WHERE ${this.column} IN (${inList(chunk.length)})`,
        chunk,
      );
      for (const r of rows) out.set(r.value, r.id);
      tx.afterCommit(() => {
        for (const r of rows) this.ids.set(r.value, r.id);
      });
    }
    return out;
  }

  async ensureOneIn(tx: Transaction, value: string): Promise<number> {
    return (await this.ensureIn(tx, [value])).get(value)!;
  }
}
