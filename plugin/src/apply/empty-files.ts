/**
 * New empty files (and small files' temp files, with their bytes) made on a worker thread. A catch-up of empty files is little more than three
 * calls per file (create, times, close), and each async call cost the main thread more than
 * the call itself (5-33 µs each, measured in a 100k catch-up), while four pool threads making
 * files in one directory at once contended in the kernel for its lock. Here the files asked
 * for in one turn of the event loop go to one worker as one message and are made one after
 * the other with blocking calls; the main thread pays a message per batch.
 *
 * The worker comes and goes with the work (WorkerSlot); `close()` ends it. A file whose
 * worker died answers with an error that apply reports as APPLY_IO (the engine retries those).
 */
import type { EmptyFileRequest, EmptyFileResult, EmptyFilesBatch, EmptyFilesReply, PlaceRequest, PlaceResult } from './empty-files-types';
import { WorkerSlot } from './worker-slot';

type Job = EmptyFileRequest | PlaceRequest;
type Result = EmptyFileResult | PlaceResult;

interface Waiter {
  readonly resolve: (r: Result) => void;
}

/** Files per message at most (a batch holds the worker for their syscalls). */
const MAX_BATCH = 512;

export class EmptyFiles {
  private readonly slot: WorkerSlot<EmptyFilesReply>;
  private nextId = 1;
  private readonly inFlight = new Map<number, Waiter[]>();
  private gathering: { files: Job[]; waiters: Waiter[]; transfer: ArrayBuffer[] } | undefined;
  private closed = false;

  constructor(idleMs?: number) {
    this.slot = new WorkerSlot<EmptyFilesReply>({
      file: 'empty-files-worker.cjs',
      idleMs,
      onReply: (reply) => {
        const waiters = this.inFlight.get(reply.id);
        if (waiters === undefined) return;
        this.inFlight.delete(reply.id);
        this.slot.answered();
        waiters.forEach((w, i) => w.resolve(reply.results[i] ?? { ok: false, code: 'EIO', syscall: 'open', message: 'no answer from the empty-file worker' }));
      },
      onGone: (why) => this.failAll(`the empty-file worker ${why}`),
    });
  }

  /** A worker thread runs now (it stops once idle). */
  get working(): boolean {
    return this.slot.running;
  }

  /**
   * Makes `f.path` (exclusively); resolves with its stat or the errno that stopped it.
   * `transfer`: buffers of `f.data` handed to the worker, not copied (they are unusable here after).
   */
  make(f: EmptyFileRequest, transfer?: readonly ArrayBuffer[]): Promise<EmptyFileResult> {
    return this.enqueue(f, transfer) as Promise<EmptyFileResult>;
  }

  /**
   * Renames a finished temp file to its name when nothing stands there (EEXIST otherwise, and
   * it stays): a new small file's rename and the check before it were two thread-pool calls
   * on the main thread; here they join the run's other files in one message.
   */
  place(from: string, to: string): Promise<PlaceResult> {
    return this.enqueue({ op: 'place', from, to }) as Promise<PlaceResult>;
  }

  private enqueue(f: Job, transfer?: readonly ArrayBuffer[]): Promise<Result> {
    if (this.closed) return Promise.resolve({ ok: false, code: 'ECANCELED', syscall: 'op' in f ? 'rename' : 'open', message: 'the empty-file worker is closed' });
    return new Promise((resolve) => {
      if (this.gathering === undefined) {
        const batch = { files: [] as Job[], waiters: [] as Waiter[], transfer: [] as ArrayBuffer[] };
        this.gathering = batch;
        setImmediate(() => {
          if (this.gathering === batch) this.gathering = undefined;
          this.send(batch.files, batch.waiters, batch.transfer);
        });
      }
      this.gathering.files.push(f);
      if (transfer !== undefined) this.gathering.transfer.push(...transfer);
      this.gathering.waiters.push({ resolve });
      if (this.gathering.files.length >= MAX_BATCH) this.gathering = undefined;
    });
  }

  close(): void {
    this.closed = true;
    this.slot.stop();
    this.failAll('the empty-file worker is closed');
  }

  private send(files: readonly Job[], waiters: Waiter[], transfer: readonly ArrayBuffer[]): void {
    if (this.closed) {
      for (const w of waiters) w.resolve({ ok: false, code: 'ECANCELED', syscall: 'open', message: 'the empty-file worker is closed' });
      return;
    }
    const id = this.nextId++;
    this.inFlight.set(id, waiters);
    this.slot.post({ id, files } satisfies EmptyFilesBatch, transfer);
  }

  private failAll(message: string): void {
    const waiting = [...this.inFlight.values()];
    this.inFlight.clear();
    // An errno-shaped failure: apply reports it as APPLY_IO for the path, and the engine retries it.
    for (const ws of waiting) for (const w of ws) w.resolve({ ok: false, code: 'EIO', syscall: 'open', message });
  }
}
