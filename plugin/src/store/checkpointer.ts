/** Copies the WAL back into the database file on a connection of its own, so commits do not pay for it. */
import type { Db } from './db';

/** Commits per background checkpoint (see Checkpointer). */
export const DEFAULT_CHECKPOINT_EVERY = 8;

/**
 * sqlite's automatic checkpoint runs inside the COMMIT that crosses the threshold, on the
 * writer's thread, and made a batch's commit cost more than its inserts. A PASSIVE checkpoint
 * on a second connection runs on another libuv thread while the writer goes on (WAL allows
 * one checkpointer beside one writer); it never waits for locks, so at worst it copies less
 * and the next one catches up. The writer keeps a large auto-checkpoint as a backstop in case
 * this one falls behind.
 */
export class Checkpointer {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private commits = 0;
  /** The last failure, kept for diagnostics: a failed passive checkpoint only leaves work for the next one. */
  lastError: Error | undefined;

  /**
   * `everyCommits`: a checkpoint per that many commits. Each checkpoint copies every page the
   * commits since the last one dirtied, and a batch dirties pages all over the by-hash and heads
   * indexes: checkpointing after every commit copied those pages once per batch. Measured on a
   * 100k-entry catch-up (batches of 1,000): checkpoint time 835 ms at 1, 335 ms at 8. The WAL
   * then holds at most that many commits more; closing the store checkpoints the rest.
   */
  constructor(
    private readonly db: Db,
    private readonly everyCommits = DEFAULT_CHECKPOINT_EVERY,
  ) {}

  /** Call after a commit: every `everyCommits` calls, starts a checkpoint, or queues one more if one is running. */
  request(): void {
    if (this.closed) return;
    if (++this.commits < this.everyCommits) return;
    this.commits = 0;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    await this.db.close();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.db.get('PRAGMA wal_checkpoint(PASSIVE)');
      } catch (e) {
        this.lastError = e as Error;
      }
    } while (this.again && !this.closed);
  }
}
