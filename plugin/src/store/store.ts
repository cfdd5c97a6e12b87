/** Opens the sqlite file (WAL, migrations) and assembles the per-consumer stores over it. */
import { blockIndex, type BlockIndex } from './blocks';
import { blockPaths, type BlockPaths } from './block-paths';
import type { StoreContext } from './context';
import { Checkpointer } from './checkpointer';
import { cutStore, type CutStore } from './cut';
import { Db } from './db';
import { entryStore, type EntryStore } from './entries';
import { forgetStore, type ForgetStore } from './forget';
import { abortError, StoreError } from './errors';
import { HashIndex } from './hash-index';
import { Interner } from './interner';
import { localIndexStore, type LocalIndexStore } from './local-index';
import { localBaseStore, type LocalBaseStore } from './local-base';
import { manifestStore, type ManifestStore } from './manifests';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from './migrate';
import { peerVectorStore, type PeerVectorStore } from './peer-vectors';
import { refusedStore, type RefusedStore } from './refused';

export interface StoreOptions {
  signal?: AbortSignal;
  /** Where the NNN_name.sql files are; tests point this at broken ones. */
  migrationsDir?: string;
  /** Clock for `schema_migrations.applied_at_ms`. */
  now?: () => number;
  /** Rows per page for streamed reads. */
  pageSize?: number;
  /** Hash keys held in the small level of the by-hash index before a merge (tests make it tiny). */
  recentHashLimit?: number;
  busyTimeoutMs?: number;
  /**
   * Page cache of the writer connection, in MB. Default 16: 32 and 64 were no faster for 100k
   * or 1M entries (its by-hash and heads indexes grow ~90 bytes per entry), and RSS counts.
   */
  cacheMb?: number;
}

/** Everything the store offers; each consumer should ask only for its narrow interface. */
export type Store = EntryStore &
  CutStore &
  ForgetStore &
  RefusedStore &
  ManifestStore &
  LocalIndexStore &
  LocalBaseStore &
  BlockIndex &
  BlockPaths &
  PeerVectorStore & {
    readonly path: string;
    /** Versions applied by this open (empty when the schema was already current). */
    readonly migrationsApplied: readonly number[];
    /** Waits for queued writes, then closes; later calls fail with STORE_CLOSED. */
    close(): Promise<void>;
  };

async function open(path: string, options: StoreOptions = {}): Promise<Store> {
  const { signal } = options;
  const check = (): void => {
    if (signal?.aborted) throw abortError(signal, `open ${path}`);
  };
  check();
  const migrations = await loadMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const opened: Db[] = [];
  try {
    const writer = await Db.open(path, { busyTimeoutMs: options.busyTimeoutMs });
    opened.push(writer);
    const mode = await writer.get<{ journal_mode: string }>('PRAGMA journal_mode = WAL');
    if (mode?.journal_mode !== 'wal') throw new StoreError('STORE_IO', `could not switch ${path} to WAL (got ${mode?.journal_mode})`);
    // With WAL, NORMAL skips the fsync per commit and syncs at checkpoints instead. A commit is
    // still atomic (its WAL frames carry checksums and a commit marker; a torn tail is ignored on
    // recovery), and a killed process loses nothing committed because the WAL is in the OS cache.
    // Only a power cut can lose the last commits, never tear one or corrupt the file; those
    // entries come back from peers or the next scan.
    //
    // A batch touches pages all over the by-hash and heads indexes (their keys are random), so a
    // cache that holds those indexes turns re-reads of the same pages into hits, up to a point:
    // past 1M entries they outgrow any cache a sidecar can afford, misses are served from the
    // OS's page cache, and 16 MB caught up 1M entries as fast as 32 MB did (14.2 s and 17.1 s on
    // a loaded machine) with 11 MB less peak RSS, which has a 200 MB budget. Checkpoints run
    // on their own connection (see Checkpointer); the auto-checkpoint stays as a backstop at 64 MB.
    await writer.exec(
      `PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -${Math.round((options.cacheMb ?? 16) * 1024)};
       PRAGMA wal_autocheckpoint = 16384;`,
    );
    check();
    const applied = await migrate(writer, migrations, options.now ?? Date.now, signal);
    const hashes = await HashIndex.open(writer, options.recentHashLimit);
    check();
    // Opened after migrations so the file and its WAL index exist for a read-only connection.
    const reader = await Db.open(path, { readonly: true, busyTimeoutMs: options.busyTimeoutMs });
    opened.push(reader);
    const checkpointDb = await Db.open(path, { busyTimeoutMs: options.busyTimeoutMs });
    opened.push(checkpointDb);
    const checkpointer = new Checkpointer(checkpointDb);
    writer.onCommit = () => checkpointer.request();
    check();
    const ctx: StoreContext = {
      writer,
      reader,
      folders: new Interner(reader, 'folders', 'folder'),
      authors: new Interner(reader, 'authors', 'author'),
      hashes,
      pageSize: options.pageSize ?? 1000,
      entriesCommitted: (n) => checkpointer.stored(n),
    };
    const { forgetRecent, ...localIndex } = localIndexStore(ctx);
    return {
      ...entryStore(ctx),
      ...cutStore(ctx),
      ...forgetStore(ctx, forgetRecent),
      ...refusedStore(ctx),
      ...manifestStore(ctx),
      ...localIndex,
      ...localBaseStore(ctx),
      ...blockIndex(ctx),
      ...blockPaths(ctx),
      ...peerVectorStore(ctx),
      path,
      migrationsApplied: applied,
      close: async () => {
        // The writer goes last: it drains the queued transactions, and as the last connection
        // it checkpoints the WAL into the file and removes it.
        await reader.close();
        await checkpointer.close();
        await writer.close();
      },
    };
  } catch (e) {
    for (const db of opened.reverse()) await db.close().catch(() => undefined);
    throw e;
  }
}

export const Store = { open };
