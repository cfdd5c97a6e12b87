/**
 * Hashes files on worker threads, so that hashing (two SHA-256 passes and the gear loop,
 * about 500 MB/s per core) runs on several cores and never blocks the sidecar's event loop.
 * `pool.hashFile` has the walk's HashFileFn shape. Workers are unref'd while idle, so a pool
 * never keeps the process alive by itself; `close()` ends them.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChunkerOptions } from './chunker';
import { ScanError, throwIfAborted, type ScanErrorCode } from './errors';
import { hashFileAuto, type HashedFile, type HashFileFn } from './hash-file';
import type { WorkerReply, WorkerRequest } from './hash-worker';

interface Job {
  readonly resolve: (r: HashedFile) => void;
  readonly reject: (e: unknown) => void;
  readonly slot: Slot;
  readonly cleanup: () => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
  online: boolean;
}

export interface HashPoolOptions {
  /** Worker threads (default: the number of CPUs, at most 4). */
  readonly size?: number;
  readonly chunker?: ChunkerOptions;
  /**
   * Files known (by sizeHint) to be smaller than this are hashed in the calling thread
   * (default 1 MiB): they cost a few syscalls and microseconds of hashing, less than the
   * round trip to a worker.
   */
  readonly inlineBelow?: number;
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private closed = false;
  private readonly chunker?: ChunkerOptions;
  private readonly inlineBelow: number;
  /** Worker threads started. */
  readonly size: number;

  constructor(options: HashPoolOptions = {}) {
    const size = options.size ?? Math.min(4, Math.max(1, os.cpus().length));
    if (!(size >= 1)) throw new ScanError('INVALID_OPTIONS', 'a hash pool needs at least one worker');
    this.size = size;
    this.chunker = options.chunker;
    this.inlineBelow = options.inlineBelow ?? 1024 * 1024;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  readonly hashFile: HashFileFn = (absPath, options) => {
    const signal = options?.signal;
    if (!this.closed && options?.sizeHint !== undefined && options.sizeHint < this.inlineBelow) {
      return hashFileAuto(absPath, { signal, sizeHint: options.sizeHint, chunker: this.chunker });
    }
    return new Promise<HashedFile>((resolve, reject) => {
      if (this.closed) throw new ScanError('ABORTED', 'hash pool is closed');
      if (this.slots.length === 0) throw new ScanError('IO_ERROR', 'no hash worker could be started');
      throwIfAborted(signal);
      const id = this.nextId++;
      // Least busy worker: big files spread over the cores, small ones fill the gaps.
      const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      const onAbort = (): void => this.post(slot, { kind: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.jobs.set(id, { resolve, reject, slot, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      if (slot.inFlight++ === 0) slot.worker.ref();
      this.post(slot, { kind: 'hash', id, path: absPath, chunker: this.chunker });
    });
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const [id, job] of this.jobs) this.settle(id, job, () => job.reject(new ScanError('ABORTED', 'hash pool closed')));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private post(slot: Slot, msg: WorkerRequest): void {
    slot.worker.postMessage(msg);
  }

  private spawn(): Slot {
    const entry = path.join(__dirname, `hash-worker${path.extname(__filename)}`);
    // No build step: from TypeScript sources the worker loads through tsx, like the sidecar's bin.
    const worker = entry.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true })
      : new Worker(entry);
    worker.unref();
    const slot: Slot = { worker, inFlight: 0, online: false };
    worker.once('online', () => (slot.online = true));
    worker.on('message', (reply: WorkerReply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.settle(reply.id, job, () =>
        reply.ok ? job.resolve(reply.result) : job.reject(new ScanError(reply.code as ScanErrorCode, reply.message)),
      );
    });
    const fail = (why: string): void => {
      for (const [id, job] of this.jobs) {
        if (job.slot === slot) this.settle(id, job, () => job.reject(new ScanError('IO_ERROR', `hash worker ${why}`)));
      }
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      // Replace a worker that crashed while working; one that never started would only crash again.
      if (!this.closed && slot.online) this.slots[i] = this.spawn();
      else this.slots.splice(i, 1);
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    return slot;
  }

  private settle(id: number, job: Job, f: () => void): void {
    this.jobs.delete(id);
    job.cleanup();
    if (--job.slot.inFlight === 0) job.slot.worker.unref();
    f();
  }
}
