/** Helpers for multi-row statements: one statement per chunk of rows is what makes bulk inserts fast. */
import type { Queryable } from './db';

/** Rows per statement. ~500 rows per statement is where the per-statement overhead stops mattering. */
export const MAX_ROWS_PER_STATEMENT = 512;

/**
 * Splits rows into chunks of MAX_ROWS_PER_STATEMENT, then the remainder into powers of two, so
 * every chunk has one of ten sizes and the prepared-statement cache stays small.
 */
export function chunks<T>(rows: readonly T[], max = MAX_ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (rows.length - i >= max) {
    out.push(rows.slice(i, i + max));
    i += max;
  }
  for (let size = max >> 1; size >= 1; size >>= 1) {
    if (rows.length - i >= size) {
      out.push(rows.slice(i, i + size));
      i += size;
    }
  }
  return out;
}

const placeholderCache = new Map<string, string>();

/** `(?,?,?),(?,?,?)` for `rows` rows of `cols` columns. */
export function valuesList(rows: number, cols: number): string {
  const key = `${rows}x${cols}`;
  let s = placeholderCache.get(key);
  if (!s) {
    const row = `(${new Array(cols).fill('?').join(',')})`;
    s = new Array(rows).fill(row).join(',');
    placeholderCache.set(key, s);
  }
  return s;
}

/** `?,?,?` for an IN list. */
export function inList(n: number): string {
  return valuesList(1, n).slice(1, -1);
}

/** Runs one multi-row statement per chunk; returns the rows changed. */
export async function insertChunks(tx: Queryable, rows: readonly unknown[][], sql: (n: number) => string): Promise<number> {
  let changed = 0;
  for (const chunk of chunks(rows)) changed += (await tx.run(sql(chunk.length), chunk.flat())).changes;
  return changed;
}
