/**
 * Runs `run` for the first note at once, then at most once per `ms` with the count noted
 * meanwhile: a catch-up changes the folder a hundred times a second (a batch of entries
 * each), and reading the newest entries for the live activity feed on every batch cost ~4%
 * of a catch-up's main thread, for a feed a person reads once a second at most.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | undefined;
  private noted = 0;

  constructor(
    private readonly ms: number,
    private readonly run: (count: number) => void,
  ) {}

  note(count: number): void {
    if (this.timer !== undefined) {
      this.noted += count;
      return;
    }
    this.run(count);
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.noted === 0) return;
      const n = this.noted;
      this.noted = 0;
      this.run(n);
      this.arm();
    }, this.ms);
    this.timer.unref?.();
  }
}
