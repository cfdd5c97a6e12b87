/** A timer for trying something again: each arming waits twice as long as the one before, up to a bound, until reset. */
export class RetryTimer {
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;

  constructor(
    private readonly fire: () => void,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** Schedules `fire` unless it is scheduled already. */
  arm(): void {
    if (this.timer !== undefined) return;
    const delay = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempts++, 30));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, delay);
  }

  /** What was tried has gone through: the next arming waits the shortest time again. */
  reset(): void {
    this.attempts = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
