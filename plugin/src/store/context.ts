/** What every table module shares: the two connections and the folder-id map. */
import type { Db } from './db';
import type { HashIndex } from './hash-index';
import type { Interner } from './interner';

export interface StoreContext {
  /** The one connection that writes; every write is a queued transaction on it. */
  writer: Db;
  /** A read-only connection: sees only committed data, never a transaction in progress. */
  reader: Db;
  folders: Interner;
  authors: Interner;
  hashes: HashIndex;
  /** Rows per page when streaming. */
  pageSize: number;
  /** Told, once a transaction committed, how many entries it stored (paces the background checkpoints). */
  entriesCommitted?: (entries: number) => void;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Rows fetched per page; memory held is about one page. */
  pageSize?: number;
}
