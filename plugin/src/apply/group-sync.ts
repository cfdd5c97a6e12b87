/**
 * Durability in groups. An fsync per small file costs a journal commit each (1-3 ms on a
 * busy disk): thousands of small files then take seconds of fsync alone. syncfs(2) makes
 * everything written to the folder's filesystem durable in one call, so files written at once
 * wait for one shared sync instead. Node has no syncfs binding; coreutils' `sync -f <path>` is
 * that call, run by one long-lived `sh` per folder (a spawn from Node forks its whole heap and
 * blocks the event loop meanwhile; the shell's fork is cheap). Where it is missing (not Linux,
 * old coreutils) `probe` answers undefined and apply keeps its fsync per file.
 *
 * The rule a waiter relies on: `wait()` resolves only after a sync that STARTED after the call,
 * so everything the caller wrote before calling is durable when it resolves.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';
import { ApplyError, throwIfAborted } from './errors';

export interface GroupSyncOptions {
  /** Longest a waiter waits for others to join its group (default 4 ms). */
  readonly gatherMs?: number;
  /** Waiters that start a sync at once (default 256). */
  readonly maxGroup?: number;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly gatherMs: number;
  private readonly maxGroup: number;
  private readonly helper: SyncHelper;
  /** syncfs calls made (for tests and benches). */
  syncs = 0;

  private constructor(
    private readonly root: string,
    options: GroupSyncOptions = {},
  ) {
    this.gatherMs = options.gatherMs ?? 4;
    this.maxGroup = options.maxGroup ?? 256;
    this.helper = new SyncHelper(root);
  }

  /** A GroupSync for the filesystem holding `root`, or undefined when syncfs cannot be called here. */
  static async probe(root: string, options?: GroupSyncOptions): Promise<GroupSync | undefined> {
    // The path goes to the helper as one line.
    if (process.platform !== 'linux' || root.includes('\n')) return undefined;
    const g = new GroupSync(root, options);
    try {
      await g.helper.sync();
      return g;
    } catch {
      g.close();
      return undefined;
    }
  }

  /** Ends the helper; waits after this fail. */
  close(): void {
    this.helper.close();
  }

  /** Resolves once everything written before this call is durable. */
  wait(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.running) return;
      if (this.waiting.length >= this.maxGroup) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.gatherMs);
    });
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const group = this.waiting;
    this.waiting = [];
    this.syncs++;
    this.helper.sync().then(
      () => {
        for (const w of group) w.resolve();
      },
      (e: unknown) => {
        const err = new ApplyError('APPLY_IO', `cannot sync the filesystem of ${this.root}: ${String((e as Error)?.message ?? e)}`, { cause: e });
        for (const w of group) w.reject(err);
      },
    ).finally(() => {
      this.running = false;
      // Those who came while this sync ran wrote after it started: they need the next one.
      if (this.waiting.length > 0) this.start();
    });
  }
}

/** `sync -f <root>` on request, in a shell that lives as long as the folder engine; answers in order. */
class SyncHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Waiter[] = [];
  private closed = false;

  constructor(private readonly root: string) {}

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the sync helper is closed'));
    const child = this.child ?? this.spawn();
    // Held only while an answer is due: an idle helper never keeps the process alive.
    if (this.pending.length === 0) refOf(child.stdout).ref?.();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.stdin.write(`${this.root}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.child?.kill();
    this.child = undefined;
  }

  private spawn(): ChildProcessWithoutNullStreams {
    const child = spawn('sh', ['-c', 'while IFS= read -r p; do if sync -f -- "$p"; then echo ok; else echo fail; fi; done'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    // Never what keeps the sidecar alive.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) refOf(s).unref?.();
    child.stdin.on('error', () => undefined);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.pending.shift();
      if (this.pending.length === 0) refOf(child.stdout).unref?.();
      if (line === 'ok') w?.resolve();
      else w?.reject(new Error(`sync -f ${this.root} failed`));
    });
    const gone = (why: string): void => {
      if (this.child === child) this.child = undefined;
      const waiting = this.pending;
      this.pending = [];
      for (const w of waiting) w.reject(new Error(`the sync helper ${why}`));
    };
    child.on('error', (e) => gone(`failed: ${e.message}`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    return child;
  }
}

/** Pipes to a child are sockets, whose ref/unref the stream types do not show. */
const refOf = (s: unknown): { ref?: () => void; unref?: () => void } => s as { ref?: () => void; unref?: () => void };
