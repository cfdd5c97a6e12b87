/**
 * One worker thread for a stream of batches: started on first use, unref'd while nothing is in
 * flight (it never keeps the process alive by itself), stopped once idle for WORKER_IDLE_MS
 * (a worker's isolate is ~9 MB of a sidecar's 200 MB budget, and a sidecar that served a burst
 * of small files an hour ago needs none of it now), replaced if it dies.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export const WORKER_IDLE_MS = 10_000;

export interface WorkerSlotOptions<Reply> {
  /** The body, a plain JavaScript file next to this one (no tsx in a worker: ~8 MB more). */
  readonly file: string;
  readonly onReply: (reply: Reply) => void;
  /** The worker failed or exited while in use: everything in flight is lost. */
  readonly onGone: (why: string) => void;
  readonly idleMs?: number;
}

export class WorkerSlot<Reply> {
  private worker: Worker | undefined;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: WorkerSlotOptions<Reply>) {}

  /** Posts one batch; call `answered()` once per batch when its reply came (or was given up). */
  post(message: unknown, transfer: readonly ArrayBuffer[] = []): void {
    const worker = this.worker ?? this.spawn();
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.inFlight++ === 0) worker.ref();
    worker.postMessage(message, transfer);
  }

  answered(): void {
    if (this.inFlight === 0 || --this.inFlight > 0) return;
    this.worker?.unref();
    this.idleTimer = setTimeout(() => this.stop(), this.opts.idleMs ?? WORKER_IDLE_MS);
    this.idleTimer.unref();
  }

  /** Ends the worker (nothing in flight is answered: the caller fails it). */
  stop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const w = this.worker;
    this.worker = undefined;
    this.inFlight = 0;
    void w?.terminate();
  }

  /** A worker is running now (for tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  private spawn(): Worker {
    const worker = new Worker(path.join(__dirname, this.opts.file));
    worker.unref();
    worker.on('message', (reply: Reply) => this.opts.onReply(reply));
    const gone = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.inFlight = 0;
      this.opts.onGone(why);
    };
    worker.on('error', (e) => gone(`failed: ${e.message}`));
    worker.on('exit', (code) => gone(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }
}
