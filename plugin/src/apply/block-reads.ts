/**
 * Small blocks read and verified on a worker thread. Serving a small file's block from the
 * main thread cost an open, a read and a close through the thread pool (each async call 5-30
 * µs of the main thread, and a pool thread woken per call to compete for its core) plus the
 * hash: a peer serving 10k small files to two others spent about a third of its main thread
 * there. Here the reads asked for in one turn of the event loop go to the worker as one
 * message and are done one after the other with blocking calls; the main thread pays a
 * message per batch and gets the found blocks' bytes back in one transferred buffer.
 *
 * The worker is started on first use, unref'd while idle (it never keeps the process alive by
 * itself), replaced if it dies. A worker that fails or exits rejects what it was reading with
 * APPLY_IO (a clear error, never a hang); `close()` ends it and rejects what is waiting.
 */
import { ApplyError } from './errors';
import type { BlockReadRequest, BlockReadsBatch, BlockReadsReply } from './block-reads-types';
import { WorkerSlot } from './worker-slot';

interface Waiter {
  readonly resolve: (data: Buffer | undefined) => void;
  readonly reject: (e: unknown) => void;
  settled: boolean;
}

/** Reads per message at most, and their bytes (a batch holds the worker, and its buffer lives while any of its blocks does). */
const MAX_BATCH = 256;
const MAX_BATCH_BYTES = 1024 * 1024;
/** Blocks up to this size go to the worker; larger ones are read in place (see LocalBlockSource). */
export const WORKER_BLOCK_BYTES = 64 * 1024;

export class BlockReads {
  private readonly slot: WorkerSlot<BlockReadsReply>;
  private nextId = 1;
  private readonly inFlight = new Map<number, { reads: readonly BlockReadRequest[]; waiters: Waiter[] }>();
  private gathering: { reads: BlockReadRequest[]; waiters: Waiter[]; bytes: number } | undefined;
  private closed = false;

  constructor(idleMs?: number) {
    this.slot = new WorkerSlot<BlockReadsReply>({
      file: 'block-reads-worker.cjs',
      idleMs,
      onReply: (reply) => {
        const batch = this.inFlight.get(reply.id);
        if (batch === undefined) return;
        this.inFlight.delete(reply.id);
        this.slot.answered();
        let at = 0;
        batch.reads.forEach((r, i) => {
          const w = batch.waiters[i];
          const found = reply.found[i] === 1 && reply.data.byteLength >= at + r.size;
          const data = found ? Buffer.from(reply.data, at, r.size) : undefined;
          settle(w, () => w.resolve(data));
          at += r.size;
        });
      },
      onGone: (why) => this.failAll(`the block-read worker ${why}`),
    });
  }

  /** A worker thread runs now (it stops once idle). */
  get working(): boolean {
    return this.slot.running;
  }

  /** The block's bytes when the file holds them at `offset` and they hash to `hash`; undefined when not (gone, changed, a link). */
  read(r: BlockReadRequest, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (this.closed) return Promise.reject(new ApplyError('APPLY_IO', 'the block-read worker is closed'));
    if (signal?.aborted) return Promise.reject(new ApplyError('APPLY_ABORTED', 'block read aborted', { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, settled: false };
      if (signal !== undefined) {
        // Answered at once; the worker's answer for it is dropped when it comes.
        const onAbort = (): void => settle(w, () => reject(new ApplyError('APPLY_ABORTED', 'block read aborted', { cause: signal.reason })));
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (): void => signal.removeEventListener('abort', onAbort);
        (w as { resolve: Waiter['resolve'] }).resolve = (d) => (done(), resolve(d));
        (w as { reject: Waiter['reject'] }).reject = (e) => (done(), reject(e));
      }
      if (this.gathering === undefined) {
        const batch = { reads: [] as BlockReadRequest[], waiters: [] as Waiter[], bytes: 0 };
        this.gathering = batch;
        setImmediate(() => {
          if (this.gathering === batch) this.gathering = undefined;
          this.send(batch.reads, batch.waiters);
        });
      }
      this.gathering.reads.push(r);
      this.gathering.waiters.push(w);
      this.gathering.bytes += r.size;
      if (this.gathering.reads.length >= MAX_BATCH || this.gathering.bytes >= MAX_BATCH_BYTES) this.gathering = undefined;
    });
  }

  close(): void {
    this.closed = true;
    this.slot.stop();
    this.failAll('the block-read worker is closed');
  }

  private send(reads: readonly BlockReadRequest[], waiters: Waiter[]): void {
    if (this.closed) {
      for (const w of waiters) settle(w, () => w.reject(new ApplyError('APPLY_IO', 'the block-read worker is closed')));
      return;
    }
    // Reads aborted while gathering need no disk.
    if (waiters.every((w) => w.settled)) return;
    const id = this.nextId++;
    this.inFlight.set(id, { reads, waiters });
    try {
      this.slot.post({ id, reads } satisfies BlockReadsBatch);
    } catch (e) {
      this.inFlight.delete(id);
      for (const w of waiters) settle(w, () => w.reject(new ApplyError('APPLY_IO', `cannot start the block-read worker: ${(e as Error).message}`, { cause: e })));
    }
  }

  private failAll(message: string): void {
    const batches = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const b of batches) for (const w of b.waiters) settle(w, () => w.reject(new ApplyError('APPLY_IO', message)));
  }
}

function settle(w: Waiter, f: () => void): void {
  if (w.settled) return;
  w.settled = true;
  f();
}

let shared: BlockReads | undefined;
/** One worker for the process: serving is bursts of reads from whichever folder a peer asks of. */
export function sharedBlockReads(): BlockReads {
  shared ??= new BlockReads();
  return shared;
}
