/**
 * An in-memory link for sync tests: two ends that carry ENCODED messages (so every message
 * goes through encode and decode), each direction on two lanes (folder messages, block
 * messages) with an optional byte bound per lane: `send` waits while the lane is full.
 */
import { decodeMessage, encodeMessage, isBlockBytes, type SyncKind, type SyncMessage } from '../../../plugin/src/sync';

export type Receiver = (bytes: Uint8Array) => Promise<void>;

class Lane {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  /** The most bytes this lane ever held, and the largest single message. */
  peak = 0;
  largest = 0;
  private readonly spaceWaiters: (() => void)[] = [];
  private receiver: Receiver | undefined;
  private pumping = false;
  private readonly idleWaiters: (() => void)[] = [];
  closed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly errors: unknown[],
  ) {}

  attach(r: Receiver): void {
    this.receiver = r;
    void this.pump();
  }

  async push(b: Buffer): Promise<void> {
    // A message larger than the bound still goes alone through an empty lane.
    while (!this.closed && this.queued > 0 && this.queued + b.length > this.maxBytes) await new Promise<void>((r) => this.spaceWaiters.push(r));
    if (this.closed) throw new Error('link closed');
    this.queue.push(b);
    this.queued += b.length;
    this.peak = Math.max(this.peak, this.queued);
    this.largest = Math.max(this.largest, b.length);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.receiver) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const b = this.queue.shift() as Buffer;
        try {
          await this.receiver(b);
        } catch (e) {
          this.errors.push(e);
        }
        this.queued -= b.length;
        this.spaceWaiters.shift()?.();
      }
    } finally {
      this.pumping = false;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once everything pushed so far was handed to the receiver and the receiver finished with it. */
  drained(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const w of this.spaceWaiters.splice(0)) w();
  }
}

export class End {
  /** Every message this end sent, as encoded. */
  readonly sent: { kind: SyncKind | 'raw'; bytes: number; message?: SyncMessage }[] = [];
  /** Errors the receiver on the OTHER end threw for what this end sent. */
  readonly errors: unknown[] = [];
  readonly lanes: { ordered: Lane; blocks: Lane };
  other!: End;

  constructor(maxBytes: number) {
    this.lanes = { ordered: new Lane(maxBytes, this.errors), blocks: new Lane(maxBytes, this.errors) };
  }

  get bytesSent(): number {
    return this.sent.reduce((n, s) => n + s.bytes, 0);
  }

  kinds(): (SyncKind | 'raw')[] {
    return this.sent.map((s) => s.kind);
  }

  /** The messages of one kind this end sent. */
  messages<K extends SyncKind>(kind: K): Extract<SyncMessage, { kind: K }>[] {
    return this.sent.flatMap((s) => (s.message?.kind === kind ? [s.message as Extract<SyncMessage, { kind: K }>] : []));
  }

  readonly send = (m: SyncMessage): Promise<void> => {
    const b = encodeMessage(m);
    this.sent.push({ kind: m.kind, bytes: b.length, message: m });
    return this.laneOf(b).push(b);
  };

  /** Bytes as they are, malformed or not (ordered lane unless they look like a block message). */
  sendRaw(bytes: Uint8Array): Promise<void> {
    const b = Buffer.from(bytes);
    this.sent.push({ kind: 'raw', bytes: b.length });
    return this.laneOf(b).push(b);
  }

  private laneOf(b: Uint8Array): Lane {
    return isBlockBytes(b) ? this.lanes.blocks : this.lanes.ordered;
  }

  /** What the other end sends is handed to `r`. */
  onReceive(r: Receiver): void {
    this.other.lanes.ordered.attach(r);
    this.other.lanes.blocks.attach(r);
  }

  /** Messages arriving at this end, decoded, collected in `into` (for a raw peer). */
  collect(into: SyncMessage[]): void {
    this.onReceive(async (b) => {
      into.push(decodeMessage(b));
    });
  }

  /** Everything this end sent so far was handled by the other end's receiver. */
  async drained(): Promise<void> {
    await Promise.all([this.lanes.ordered.drained(), this.lanes.blocks.drained()]);
  }

  close(): void {
    this.lanes.ordered.close();
    this.lanes.blocks.close();
  }
}

/** Two connected ends; `maxBytes` bounds each lane of each direction. */
export function duplex(maxBytes = 8 * 1024 * 1024): [End, End] {
  const a = new End(maxBytes);
  const b = new End(maxBytes);
  a.other = b;
  b.other = a;
  return [a, b];
}

/** Closes both directions. */
export function cut(a: End): void {
  a.close();
  a.other.close();
}
