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
  /**
   * Runs from setAll not in the maps yet, oldest first, and how many clocks they hold: a
   * catch-up whose entries name no parents never reads a clock, and setting each of its
   * entries in a map cost ~50 bytes of garbage per entry.
   */
  private runs: { hashes: string[]; lamports: number[] }[] = [];
  private inRuns = 0;

  /** `limit`: clocks kept at most (two generations of half as many). */
  constructor(private readonly limit: number) {}

  get(hash: string): number | undefined {
    if (this.inRuns > 0) this.flush();
    const l = this.young.get(hash);
    if (l !== undefined) return l;
    const o = this.old.get(hash);
    if (o !== undefined) this.set(hash, o);
    return o;
  }

  set(hash: string, lamport: number): void {
    if (this.inRuns > 0) this.flush();
    this.put(hash, lamport);
  }

  private put(hash: string, lamport: number): void {
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
    const from = Math.max(0, entries.length - this.limit);
    if (from >= entries.length) return;
    const hashes = new Array<string>(entries.length - from);
    const lamports = new Array<number>(entries.length - from);
    for (let i = from; i < entries.length; i++) {
      hashes[i - from] = entries[i].hash;
      lamports[i - from] = entries[i].entry.lamport;
    }
    this.runs.push({ hashes, lamports });
    this.inRuns += hashes.length;
    // Runs older than the newest `limit` clocks would be evicted by them when set: drop them now.
    while (this.inRuns - this.runs[0].hashes.length >= this.limit) this.inRuns -= (this.runs.shift() as { hashes: string[] }).hashes.length;
  }

  /** Sets the waiting runs' clocks, in order (as setting them one by one in setAll would have). */
  private flush(): void {
    const runs = this.runs;
    this.runs = [];
    this.inRuns = 0;
    for (const r of runs) for (let i = 0; i < r.hashes.length; i++) this.put(r.hashes[i], r.lamports[i]);
  }

  clear(): void {
    this.runs = [];
    this.inRuns = 0;
    this.young.clear();
    this.old.clear();
  }
}
