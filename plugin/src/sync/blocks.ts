/**
 * Blocks over the sync protocol. `BlockRequester` is one peer's side of the block lane (ids,
 * a bounded number of requests in flight, hash checked on arrival); `PeerBlockSource` is what
 * the engine's block chain asks: each connected peer in turn, the fastest first.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { BlockSource } from '../apply';
import { SyncError } from './errors';
import type { SyncMessage } from './messages';

export const DEFAULT_MAX_IN_FLIGHT = 16;
/**
 * A request unanswered this long is given up (the host may have dropped the request or the
 * reply); the block is then asked of the next peer, and the engine retries later.
 */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Pending {
  readonly hash: string;
  readonly size: number;
  readonly resolve: (data: Buffer | undefined) => void;
  readonly reject: (e: Error) => void;
}

/** Sends BlockRequests to one peer and matches the replies; at most `maxInFlight` at once. */
export class BlockRequester {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private closed = false;
  /** Smoothed reply time in ms (for choosing the fastest peer); undefined until a first reply. */
  latencyMs: number | undefined;
  /** Bytes of verified blocks received from this peer (for transfer rates). */
  bytesReceived = 0;

  constructor(
    readonly peer: string,
    private readonly send: (m: SyncMessage) => Promise<void>,
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
    private readonly clock: () => number = () => performance.now(),
    /** Whether this peer may still be asked: a block hash says something about the folder. */
    readonly allowed: () => boolean = () => true,
    private readonly replyTimeoutMs = DEFAULT_REPLY_TIMEOUT_MS,
  ) {}

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** The verified block, undefined when the peer does not have it; a wrong block throws SYNC_BLOCK_FAILED. */
  async request(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    await this.slot(signal);
    const started = this.clock();
    const id = this.nextId++;
    const onAbort = (): void => {
      const p = this.pending.get(id);
      if (p && this.pending.delete(id)) p.reject(new SyncError('SYNC_CLOSED', 'block request aborted'));
    };
    const timer = setTimeout(() => {
      const p = this.pending.get(id);
      if (p && this.pending.delete(id)) p.reject(new SyncError('SYNC_BLOCK_FAILED', `${this.peer} did not answer for block ${hash} within ${this.replyTimeoutMs} ms`));
    }, this.replyTimeoutMs);
    try {
      const answer = new Promise<Buffer | undefined>((resolve, reject) => {
        this.pending.set(id, { hash, size, resolve, reject });
      });
      // Settled maybe before it is awaited (aborted while sending): not an unhandled rejection.
      answer.catch(() => undefined);
      // Removed in `finally`: the engine's signal lives as long as the engine, requests do not.
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      await this.send({ kind: 'block-request', id, hash, size }).catch((e: unknown) => {
        this.pending.get(id)?.reject(e as Error);
        this.pending.delete(id);
      });
      const data = await answer;
      const took = this.clock() - started;
      this.latencyMs = this.latencyMs === undefined ? took : this.latencyMs * 0.8 + took * 0.2;
      return data;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  private async slot(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new SyncError('SYNC_CLOSED', `link to ${this.peer} is closed`);
    while (this.inFlight >= this.maxInFlight) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (signal?.aborted || this.closed) {
        // The slot this wake-up stood for goes to the next in line.
        this.waiting.shift()?.();
        signal?.throwIfAborted();
        throw new SyncError('SYNC_CLOSED', `link to ${this.peer} is closed`);
      }
    }
    this.inFlight++;
  }

  /** A BlockReply from the peer: checked against what was asked before anyone sees it. */
  onReply(m: Extract<SyncMessage, { kind: 'block-reply' }>): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return; // late (aborted) or never asked: ignored
    this.pending.delete(m.id);
    if (m.hash !== p.hash) p.reject(new SyncError('SYNC_BLOCK_FAILED', `reply ${m.id} names another block`));
    else if (m.data === undefined) p.resolve(undefined);
    else if (m.data.length !== p.size || sha256(m.data) !== p.hash) p.reject(new SyncError('SYNC_BLOCK_FAILED', `${this.peer} sent a block that does not match ${p.hash}`));
    else {
      this.bytesReceived += m.data.length;
      p.resolve(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    }
  }

  /** Fails every request in flight (the link went down). */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new SyncError('SYNC_CLOSED', `link to ${this.peer} closed`));
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w();
  }
}

/** The network as a block source: connected peers, the one expected to answer soonest first; a peer that fails or lies is skipped. */
export class PeerBlockSource implements BlockSource {
  private readonly peers = new Set<BlockRequester>();

  constructor(private readonly log?: (message: string, detail?: unknown) => void) {}

  add(peer: BlockRequester): void {
    this.peers.add(peer);
  }

  remove(peer: BlockRequester): void {
    this.peers.delete(peer);
    this.bytesOfGone += peer.bytesReceived;
  }

  private bytesOfGone = 0;

  /** Bytes received from peers since this source was made (for transfer rates). */
  get bytesReceived(): number {
    let n = this.bytesOfGone;
    for (const p of this.peers) n += p.bytesReceived;
    return n;
  }

  /** Block requests waiting for a reply now. */
  get requestsInFlight(): number {
    let n = 0;
    for (const p of this.peers) n += p.requestsInFlight;
    return n;
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    // Every request in flight listens on the engine's one signal: dozens at once are expected.
    if (signal) setMaxListeners(0, signal);
    // Fastest first, weighed by what each is already busy with: a block goes to the peer
    // expected to answer it soonest, so several peers serve one transfer at once.
    const score = (p: BlockRequester): number => (p.requestsInFlight + 1) * Math.max(p.latencyMs ?? 1, 0.1);
    const order = [...this.peers].filter((p) => p.allowed()).sort((a, b) => score(a) - score(b));
    for (const p of order) {
      signal?.throwIfAborted();
      try {
        const data = await p.request(hash, size, signal);
        if (data !== undefined) return data;
      } catch (e) {
        if (signal?.aborted) throw e;
        this.log?.(`block ${hash} from ${p.peer} failed`, e);
      }
    }
    return undefined;
  }
}
