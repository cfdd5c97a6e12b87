/** The Lamport clocks of recently stored entries by hash, bounded: the oldest half goes out at once. */

/**
 * An entry's parents are nearly always recent entries (the version a peer or the scanner just
 * saw), so remembering the clocks of the last entries stored saves a store lookup per parent.
 * Only committed entries go in: a parent found here is stored.
 *
 * Two generations instead of a strict LRU: evicting a Map's oldest key one at a time
 * (`keys().next()`) walks over every key deleted before it, which made a 100k-entry catch-up
 * spend a second of CPU here. A hit in the old generation moves the clock to the new one.
 */
export class LamportCache {
  private young = new Map<string, number>();
  private old = new Map<string, number>();

  /** `limit`: clocks kept at most (two generations of half as many). */
  constructor(private readonly limit: number) {}

  get(hash: string): number | undefined {
    const l = this.young.get(hash);
    if (l !== undefined) return l;
    const o = this.old.get(hash);
    if (o !== undefined) this.set(hash, o);
    return o;
  }

  set(hash: string, lamport: number): void {
    this.young.set(hash, lamport);
    if (this.young.size >= Math.max(1, this.limit >> 1)) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /**
   * The clocks of a run of stored entries, oldest first. Only the newest `limit` can still be
   * here after the run, so a batch of thousands sets just those.
   */
  setAll(entries: ReadonlyArray<{ readonly hash: string; readonly entry: { readonly lamport: number } }>): void {
    for (let i = Math.max(0, entries.length - this.limit); i < entries.length; i++) this.set(entries[i].hash, entries[i].entry.lamport);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
