/**
 * Blocks over the sync protocol. `BlockRequester` is one peer's side of the block lane (ids,
 * a bounded number of requests in flight, hash checked on arrival); `PeerBlockSource` is what
 * the engine's block chain asks: each connected peer in turn, the fastest first.
 */
import { setMaxListeners } from 'node:events';
import type { BlockSource } from '../apply';
import { sha256 } from '../apply/blocks';
import { SyncError } from './errors';
import { MAX_BATCH_BLOCKS, type BlockReplyItem, type BlockRequestItem, type SyncMessage } from './messages';

/** Requests unanswered at once per peer, at most (with the byte window below, whichever binds first). */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/**
 * Bytes of blocks asked of one peer and not answered yet, at most: enough to keep the path
 * through two hosts busy, and far below what a host queues for a plugin (see the Links service).
 */
export const DEFAULT_WINDOW_BYTES = 8 * 1024 * 1024;
/**
 * A request unanswered this long is given up (the host may have dropped the request or the
 * reply); the block is then asked of the next peer, and the engine retries later.
 */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;
/**
 * A request unanswered this long (or 8 times the peer's usual reply time, if longer) is sent
 * once more under the same id: a frame the host dropped then costs seconds, not the whole
 * timeout with the peer's window held. A late first answer makes the second one a no-op.
 */
export const RESEND_AFTER_MS = 5_000;

/** The author of a file is asked for its blocks first unless a peer that has them answers this many times faster. */
export const AUTHOR_SLOWER_LIMIT = 4;

interface Pending {
  readonly hash: string;
  readonly size: number;
  readonly started: number;
  /** performance.now() after which the request is given up, and after which it is sent once more (Infinity once it was). */
  readonly deadline: number;
  resendAt: number;
  readonly resolve: (data: Buffer | undefined) => void;
  readonly reject: (e: Error) => void;
}

/** The requests in flight that one signal aborts, with its one listener. */
interface Watched {
  readonly ids: Set<number>;
  readonly onAbort: () => void;
}

interface Waiter {
  readonly size: number;
  readonly wake: () => void;
}

/**
 * Sends block requests to one peer and matches the replies; at most `maxInFlight` requests and
 * `windowBytes` bytes asked at once. Requests made in the same turn of the event loop go out
 * as one BlockRequests message when the peer speaks protocol 2 (`batches()`).
 */
export class BlockRequester {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private waiting: Waiter[] = [];
  private inFlight = 0;
  private bytesInFlight = 0;
  private closed = false;
  private outbox: (BlockRequestItem & { readonly fail: (e: Error) => void })[] = [];
  private flushing = false;
  /**
   * One timer for every request's resend and timeout, and one abort listener per signal: two
   * timers and a listener per block were most of a request's cost with thousands of small
   * files in flight (and an EventTarget walks its listeners on each add and remove).
   */
  private sweeper: NodeJS.Timeout | undefined;
  private readonly watched = new Map<AbortSignal, Watched>();
  /** Smoothed reply time in ms of blocks the peer had (for choosing the fastest peer); undefined until a first one. */
  latencyMs: number | undefined;
  /** Smoothed share of requests the peer had the block for (a peer that has little is asked last). */
  hitRate = 1;
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
    private readonly windowBytes = DEFAULT_WINDOW_BYTES,
    /** Whether the peer takes BlockRequests (protocol 2); else one BlockRequest per block. */
    private readonly batches: () => boolean = () => false,
  ) {}

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** The verified block, undefined when the peer does not have it; a wrong block throws SYNC_BLOCK_FAILED. */
  async request(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    await this.slot(size, signal);
    const id = this.nextId++;
    try {
      const now = performance.now();
      const answer = new Promise<Buffer | undefined>((resolve, reject) => {
        const resendAfter = Math.min(this.replyTimeoutMs / 2, Math.max(RESEND_AFTER_MS, 8 * (this.latencyMs ?? 0)));
        this.pending.set(id, { hash, size, started: this.clock(), deadline: now + this.replyTimeoutMs, resendAt: now + resendAfter, resolve, reject });
      });
      // Settled maybe before it is awaited (aborted while sending): not an unhandled rejection.
      answer.catch(() => undefined);
      this.sweep();
      if (signal !== undefined) this.watch(signal, id);
      const fail = (e: Error): void => {
        this.pending.get(id)?.reject(e);
        this.pending.delete(id);
      };
      await this.ask(id, hash, size, fail);
      return await answer;
    } finally {
      if (signal !== undefined) this.unwatch(signal, id);
      if (this.pending.size === 0 && this.sweeper !== undefined) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
      this.release(size);
    }
  }

  /** Fails the request when `signal` aborts (one listener per signal, for all its requests). */
  private watch(signal: AbortSignal, id: number): void {
    let w = this.watched.get(signal);
    if (w === undefined) {
      const ids = new Set<number>();
      const onAbort = (): void => {
        for (const i of ids) {
          const p = this.pending.get(i);
          if (p && this.pending.delete(i)) p.reject(new SyncError('SYNC_CLOSED', 'block request aborted'));
        }
      };
      w = { ids, onAbort };
      this.watched.set(signal, w);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    w.ids.add(id);
    if (signal.aborted) w.onAbort();
  }

  /** The engine's signal lives as long as the engine, requests do not: its listener goes with the last of them. */
  private unwatch(signal: AbortSignal, id: number): void {
    const w = this.watched.get(signal);
    if (w === undefined || !w.ids.delete(id) || w.ids.size > 0) return;
    this.watched.delete(signal);
    signal.removeEventListener('abort', w.onAbort);
  }

  /** Runs while requests are unanswered: sends again those due for it, gives up those past their deadline. */
  private sweep(): void {
    if (this.sweeper !== undefined || this.pending.size === 0) return;
    const every = Math.max(10, Math.min(1000, this.replyTimeoutMs / 8));
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const [id, p] of this.pending) {
        if (now >= p.deadline) {
          this.pending.delete(id);
          p.reject(new SyncError('SYNC_BLOCK_FAILED', `${this.peer} did not answer for block ${p.hash} within ${this.replyTimeoutMs} ms`));
        } else if (now >= p.resendAt && !this.closed) {
          p.resendAt = Infinity;
          void this.ask(id, p.hash, p.size, () => undefined);
        }
      }
      if (this.pending.size === 0 || this.closed) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, every);
  }

  /** Puts a request on its way: into the next BlockRequests, or alone to a version-1 peer. */
  private async ask(id: number, hash: string, size: number, fail: (e: Error) => void): Promise<void> {
    if (this.batches()) {
      this.outbox.push({ id, hash, size, fail });
      if (this.outbox.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    } else {
      await this.send({ kind: 'block-request', id, hash, size }).catch(fail);
    }
  }

  /**
   * Asks again for everything unanswered (messages to or from the peer may have been lost: the
   * session resyncs). Same ids: whichever answer comes first is taken, the other ignored.
   */
  resend(): void {
    if (this.closed) return;
    for (const [id, p] of this.pending) void this.ask(id, p.hash, p.size, () => undefined);
  }

  /** Sends what was asked since the last flush, as few BlockRequests as the batch bound allows; one send at a time keeps the peer's order. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        const batch = this.outbox.splice(0, MAX_BATCH_BLOCKS);
        const live = batch.filter((r) => this.pending.has(r.id));
        if (live.length === 0) continue;
        await this.send({ kind: 'block-requests', requests: live.map((r) => ({ id: r.id, hash: r.hash, size: r.size })) }).catch((e: Error) => {
          for (const r of live) r.fail(e);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  private fits(size: number): boolean {
    // One block larger than the window still goes, alone.
    return this.inFlight < this.maxInFlight && (this.bytesInFlight === 0 || this.bytesInFlight + size <= this.windowBytes);
  }

  private async slot(size: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new SyncError('SYNC_CLOSED', `link to ${this.peer} is closed`);
    if (this.waiting.length === 0 && this.fits(size)) {
      this.inFlight++;
      this.bytesInFlight += size;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push({ size, wake: resolve }));
    // The slot was taken for us by `release`; given back when we do not use it.
    if (signal?.aborted || this.closed) {
      this.release(size);
      signal?.throwIfAborted();
      throw new SyncError('SYNC_CLOSED', `link to ${this.peer} is closed`);
    }
  }

  /** Frees a slot and hands the room to the waiters in line that now fit. */
  private release(size: number): void {
    this.inFlight--;
    this.bytesInFlight -= size;
    while (this.waiting.length > 0 && (this.closed || this.fits(this.waiting[0].size))) {
      const w = this.waiting.shift()!;
      this.inFlight++;
      this.bytesInFlight += w.size;
      w.wake();
    }
  }

  /** A BlockReply from the peer: checked against what was asked before anyone sees it. */
  onReply(m: Extract<SyncMessage, { kind: 'block-reply' }>): void {
    this.settle(m);
  }

  /** A BlockReplies message: each reply checked as if it came alone. */
  onReplies(m: Extract<SyncMessage, { kind: 'block-replies' }>): void {
    for (const r of m.replies) this.settle(r);
  }

  private settle(m: BlockReplyItem): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return; // late (aborted) or never asked: ignored
    this.pending.delete(m.id);
    if (m.hash !== p.hash) return p.reject(new SyncError('SYNC_BLOCK_FAILED', `reply ${m.id} names another block`));
    this.hitRate = this.hitRate * 0.9 + (m.data === undefined ? 0 : 0.1);
    if (m.data === undefined) return p.resolve(undefined);
    // The same object that was hashed goes on: later checks of it find its hash remembered.
    const data = Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    if (data.length !== p.size || sha256(data) !== p.hash) return p.reject(new SyncError('SYNC_BLOCK_FAILED', `${this.peer} sent a block that does not match ${p.hash}`));
    const took = this.clock() - p.started;
    this.latencyMs = this.latencyMs === undefined ? took : this.latencyMs * 0.8 + took * 0.2;
    this.bytesReceived += data.length;
    p.resolve(data);
  }

  /** Fails every request in flight (the link went down). */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const p of this.pending.values()) p.reject(new SyncError('SYNC_CLOSED', `link to ${this.peer} closed`));
    this.pending.clear();
    this.outbox = [];
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) {
      this.inFlight++;
      this.bytesInFlight += w.size;
      w.wake();
    }
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

  async read(hash: string, size: number, signal?: AbortSignal, from?: string): Promise<Buffer | undefined> {
    // Every request in flight listens on the engine's one signal: dozens at once are expected.
    if (signal) setMaxListeners(0, signal);
    const order = this.order(from);
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

  /**
   * Who is asked, in turn. The peer that announced the file (`from`, its entry's author) comes
   * first: it had the content when it wrote the entry. Two receivers of a new folder otherwise
   * asked each other first for ~3 of 4 blocks (a peer's misses answer fast, and the author is
   * the one with many requests in flight), and each such miss cost both of them a message, a
   * lookup and a reply before the author was asked. Then the others, fastest first, weighed by
   * what each is already busy with: a block goes to the peer expected to answer it soonest, so
   * several peers serve one transfer at once; one that lacked most blocks lately (it is still
   * receiving them itself) goes after the others.
   */
  private order(from: string | undefined): BlockRequester[] {
    const score = (p: BlockRequester): number => ((p.requestsInFlight + 1) * Math.max(p.latencyMs ?? 1, 0.1)) / Math.max(p.hitRate, 0.05);
    let first: BlockRequester | undefined;
    const rest: BlockRequester[] = [];
    for (const p of this.peers) {
      if (!p.allowed()) continue;
      if (first === undefined && p.peer === from) first = p;
      else rest.push(p);
    }
    if (rest.length > 1) rest.sort((a, b) => score(a) - score(b));
    if (first === undefined) return rest;
    // ...unless a peer that has been serving blocks answers far faster (the author on a slow
    // uplink, a friend nearby who has the file): then the fastest goes first, as before.
    let fastest: number | undefined;
    for (const p of rest) if (p.latencyMs !== undefined && p.hitRate >= 0.5 && (fastest === undefined || p.latencyMs < fastest)) fastest = p.latencyMs;
    if (fastest !== undefined && first.latencyMs !== undefined && first.latencyMs > AUTHOR_SLOWER_LIMIT * fastest) {
      rest.push(first);
      return rest.sort((a, b) => score(a) - score(b));
    }
    rest.unshift(first);
    return rest;
  }
}