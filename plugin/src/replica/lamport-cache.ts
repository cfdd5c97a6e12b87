/** The Lamport clocks of recently stored entries by hash, bounded, least recently used out first. */

/**
 * An entry's parents are nearly always recent entries (the version a peer or the scanner just
 * saw), so remembering the clocks of the last entries stored saves a store lookup per parent.
 * Only committed entries go in: a parent found here is stored.
 */
export class LamportCache {
  /** Map order is use order: the first key is the least recently used. */
  private readonly clocks = new Map<string, number>();

  constructor(private readonly limit: number) {}

  get(hash: string): number | undefined {
    const l = this.clocks.get(hash);
    if (l !== undefined) {
      this.clocks.delete(hash);
      this.clocks.set(hash, l);
    }
    return l;
  }

  set(hash: string, lamport: number): void {
    this.clocks.delete(hash);
    this.clocks.set(hash, lamport);
    if (this.clocks.size > this.limit) this.clocks.delete(this.clocks.keys().next().value as string);
  }

  clear(): void {
    this.clocks.clear();
  }

  get size(): number {
    return this.clocks.size;
  }
}
