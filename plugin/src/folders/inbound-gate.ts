/**
 * Bounds what the sync sessions hold of what peers sent: the bytes of messages taken in and
 * not yet handled. Past the high mark it holds the host's Links (the senders then wait, see
 * HostClient.holdLinks); at the low mark it lets go.
 *
 * A hold can deadlock: the message being handled may wait for an apply that waits for blocks,
 * and those arrive on the same held stream. So a hold that sees nothing handled for `stallMs`
 * lets go, and the gate takes no new hold until something was handled again.
 */

export interface InboundGateOptions {
  /** Takes a hold on reading deliveries; the returned function releases it. */
  readonly hold: () => () => void;
  readonly highBytes: number;
  readonly lowBytes: number;
  readonly stallMs: number;
  /** A hold lasts at most this long, progress or not (see INBOUND_MAX_HOLD_MS); the next message may take a new one. */
  readonly maxHoldMs?: number;
  /** Told when a hold is given up for lack of progress (the bytes then waiting). */
  readonly onStall?: (bytes: number) => void;
}

/** Past this, the messages being handled plus those queued behind them hold the Links. */
export const INBOUND_HIGH_BYTES = 16 * 1024 * 1024;
export const INBOUND_LOW_BYTES = 8 * 1024 * 1024;
/** Longer than a batch of entries takes to validate, store and apply; far shorter than a block request's timeout. */
export const INBOUND_STALL_MS = 2_000;
/**
 * Well under the host's LINK_STALL_MS: a host that sees nothing of its deliveries written to us
 * for that long takes the stream for wedged and closes it. A long backlog, worked off slowly
 * under load, is held in turns instead, each letting a few deliveries through.
 */
export const INBOUND_MAX_HOLD_MS = 10_000;

export class InboundGate {
  private bytes = 0;
  private release: (() => void) | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** A hold was given up for lack of progress: no new one until a message is handled. */
  private stalled = false;
  private closed = false;
  /** Holds taken so far (for status and tests). */
  holds = 0;

  constructor(private readonly opts: InboundGateOptions) {
    if (!(opts.lowBytes <= opts.highBytes)) throw new RangeError('the low mark must not exceed the high mark');
  }

  /** Bytes taken in and not yet handled. */
  get pendingBytes(): number {
    return this.bytes;
  }

  get holding(): boolean {
    return this.release !== undefined;
  }

  /** Counts a message taken in; call the returned function once it was handled (or failed). */
  take(bytes: number): () => void {
    this.bytes += bytes;
    if (!this.release && !this.stalled && !this.closed && this.bytes > this.opts.highBytes) {
      this.release = this.opts.hold();
      this.holds++;
      this.armStall();
      this.holdTimer = setTimeout(() => this.letGo(), this.opts.maxHoldMs ?? INBOUND_MAX_HOLD_MS);
      this.holdTimer.unref();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.bytes -= bytes;
      this.stalled = false;
      if (!this.release) return;
      if (this.bytes <= this.opts.lowBytes) this.letGo();
      else this.armStall();
    };
  }

  /** Lets go of a hold for good (the service stops). */
  close(): void {
    this.closed = true;
    this.letGo();
  }

  private armStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stalled = true;
      this.letGo();
      this.opts.onStall?.(this.bytes);
    }, this.opts.stallMs);
    this.stallTimer.unref();
  }

  private letGo(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
