/** Copies the WAL back into the database file on a connection of its own, so commits do not pay for it. */
import type { Db } from './db';

/** Commits per background checkpoint (see Checkpointer). */
export const DEFAULT_CHECKPOINT_EVERY = 32;

/**
 * Entries stored per background checkpoint at most, however few the commits: the WAL grows
 * with what the commits wrote, and past the auto-checkpoint backstop (64 MB) sqlite would
 * checkpoint inside a COMMIT. 64k entries are ~30 MB of WAL (one appendLocal of 10,000 writes
 * ~4 MB): six such commits, where 32 commits of a catch-up's 1,000 entries stay well below.
 */
export const DEFAULT_CHECKPOINT_ENTRIES = 65_536;

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
   * 100k-entry catch-up (batches of 1,000): checkpoint time 835 ms at 1, 335 ms at 8; at 32,
   * the sqlite threads' CPU fell by another ~5% (the same hot pages copied 4 times fewer). The
   * WAL then holds at most that many commits more, or `everyEntries` entries; closing the
   * store checkpoints the rest.
   */
  constructor(
    private readonly db: Db,
    private readonly everyCommits = DEFAULT_CHECKPOINT_EVERY,
    private readonly everyEntries = DEFAULT_CHECKPOINT_ENTRIES,
  ) {}

  private entries = 0;

  /** Entries a commit stored, told before its `request`: big commits bring the next checkpoint nearer. */
  stored(entries: number): void {
    this.entries += entries;
  }

  /** Call after a commit: every `everyCommits` calls (or `everyEntries` stored), starts a checkpoint, or queues one more if one is running. */
  request(): void {
    if (this.closed) return;
    if (++this.commits < this.everyCommits && this.entries < this.everyEntries) return;
    this.commits = 0;
    this.entries = 0;
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
