/**
 * Group commit for apply's index writes. Files written at once each need their local index
 * row (and block locations) committed before their outcome is reported; instead of one
 * transaction per file, rows that arrive while a commit is in flight go into the next one.
 * Every caller still waits for the commit that holds its rows, so the record is exact when
 * `write` returns, as with one transaction per file.
 */
import type { BlockLocation, LocalFileRecord } from '../store';
import type { ApplyBlockIndex, ApplyLocalIndex } from './apply-file';

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class IndexRecorder {
  private rows: LocalFileRecord[] = [];
  private locations: BlockLocation[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;

  constructor(
    private readonly local: Pick<ApplyLocalIndex, 'upsertLocalFiles'>,
    private readonly blockIndex?: Pick<ApplyBlockIndex, 'addBlockLocations'>,
  ) {}

  /** Resolves once a commit holding these rows and locations is done. */
  write(rows: readonly LocalFileRecord[], locations: readonly BlockLocation[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.rows.push(...rows);
      this.locations.push(...locations);
      this.waiters.push({ resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiters.length > 0) {
      const rows = this.rows;
      const locations = this.locations;
      const waiters = this.waiters;
      this.rows = [];
      this.locations = [];
      this.waiters = [];
      try {
        // One statement may not touch a row twice: the last row for a path wins.
        await this.local.upsertLocalFiles([...new Map(rows.map((r) => [`${r.folder}\0${r.path}`, r])).values()]);
        if (this.blockIndex && locations.length > 0) {
          await this.blockIndex.addBlockLocations([...new Map(locations.map((l) => [`${l.hash}\0${l.folder}\0${l.path}\0${l.offset}`, l])).values()]);
        }
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e);
      }
    }
    this.flushing = false;
  }
}
