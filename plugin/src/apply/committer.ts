/**
 * Makes apply's renames durable and recorded in groups. A file renamed into place may not be
 * claimed by the local index before its directory entry is durable (the directory fsynced):
 * a crash could take it back while the store says it is there. Instead of a directory fsync
 * and a transaction per file, the renames of a run gather here; a flush fsyncs each directory
 * touched once, then records all their rows in one commit. A crash before a flush leaves
 * files that no record vouches for; the next apply finds them holding the winner (by hash)
 * and adopts them.
 *
 * `writing` (shared with the scanner) names the paths renamed but not recorded yet, so the
 * scanner does not take apply's own files for local edits in that gap.
 *
 * A flush takes what is pending when its turn comes, not when it was asked for: rows added
 * while a sync runs wait for one next sync together. Taken when asked, every 256 rows had a
 * sync of their own, one after the other, and a run of 4,096 new files waited for 16 syncs
 * in a row at its end (each a journal commit: tens of ms on a busy disk).
 */
import type { BlockLocation, LocalFileRecord } from '../store';
import { mapLimit } from '../scan';
import type { GroupSync } from './group-sync';
import type { IndexRecorder } from './recorder';
import { fsyncDir } from './safe-path';

/** Directory fsyncs in flight at once. */
const FSYNC_AT_ONCE = 8;

export class Committer {
  private dirs = new Set<string>();
  private rows: LocalFileRecord[] = [];
  private locations: BlockLocation[] = [];
  private paths: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: { e: unknown } | undefined;
  /** A flush step is chained and has not taken its rows yet. */
  private stepWaiting = false;

  /** `every`: rows that start a flush by themselves (the rest wait for `flush`). */
  constructor(
    private readonly recorder: IndexRecorder,
    private readonly writing?: Set<string>,
    private readonly every = 256,
    /** One shared syncfs instead of an fsync per directory. */
    private readonly groupSync?: GroupSync,
  ) {}

  /** Rows that become true once `dirs` are fsynced; `paths` leave `writing` once recorded. */
  add(dirs: Iterable<string>, rows: readonly LocalFileRecord[], locations: readonly BlockLocation[], paths: readonly string[]): void {
    for (const d of dirs) this.dirs.add(d);
    for (const r of rows) this.rows.push(r);
    for (const l of locations) this.locations.push(l);
    for (const p of paths) this.paths.push(p);
    // One waiting step takes them all: no step per add while a sync runs.
    if (this.rows.length >= this.every && !this.stepWaiting) void this.flush().catch(() => undefined);
  }

  /** Commits everything added so far; rejects if this or any earlier flush failed. */
  flush(): Promise<void> {
    this.stepWaiting = true;
    this.chain = this.chain.then(async () => {
      this.stepWaiting = false;
      // Everything added until now: earlier steps took theirs, later ones find nothing left.
      const dirs = [...this.dirs];
      const rows = this.rows;
      const locations = this.locations;
      const paths = this.paths;
      this.dirs = new Set();
      this.rows = [];
      this.locations = [];
      this.paths = [];
      try {
        if (this.failure !== undefined) return;
        if (this.groupSync !== undefined) {
          if (dirs.length > 0) await this.groupSync.wait();
        } else await mapLimit(dirs, FSYNC_AT_ONCE, fsyncDir);
        if (rows.length > 0 || locations.length > 0) await this.recorder.write(rows, locations);
      } catch (e) {
        this.failure ??= { e };
      } finally {
        for (const p of paths) this.writing?.delete(p);
      }
    });
    return this.chain.then(() => {
      if (this.failure !== undefined) throw this.failure.e;
    });
  }
}
