import type { Stats } from 'node:fs';
import type { LocalFileRecord } from '../store';

/** Files remembered at most (a catch-up writes thousands before their watch events come). */
const MOST = 16_384;

/**
 * The files apply just wrote and recorded in the local index, with the stat it recorded, each
 * until the watch event that writing caused: a file whose lstat then is exactly the record is
 * what the scanner would find unchanged (the same test as statUnchanged), so the watcher
 * drops it. Anything else (changed since, or forgotten here) goes through the scanner.
 */
export class JustWritten {
  private readonly files = new Map<string, { size: number; mtimeMs: number; inode: number; mode: number }>();

  add(rows: readonly LocalFileRecord[]): void {
    for (const r of rows) {
      // Deleted first, so the newest is last in the map's order (the oldest go first).
      this.files.delete(r.path);
      // A record without a hash is one the scanner must hash: never vouched for.
      if (r.type !== 'file' || r.contentHash === null) continue;
      this.files.set(r.path, { size: r.size, mtimeMs: r.mtimeMs, inode: r.inode, mode: r.mode });
      if (this.files.size > MOST) this.files.delete(this.files.keys().next().value as string);
    }
  }

  /** Whether `st` is what apply recorded at `p`; asked once per write (forgotten either way). */
  matches(p: string, st: Stats): boolean {
    const w = this.files.get(p);
    if (w === undefined) return false;
    this.files.delete(p);
    return w.inode === st.ino && w.size === st.size && w.mtimeMs === Math.floor(st.mtimeMs) && w.mode === (st.mode & 0o7777);
  }
}
