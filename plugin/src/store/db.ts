/** A small promise wrapper over one sqlite3 connection: run/get/all, paged streaming, serialised transactions. */
import * as sqlite3 from 'sqlite3';
import { abortError, fromSqlite, StoreError } from './errors';

export type Params = readonly unknown[];

export interface RunResult {
  changes: number;
  lastID: number;
}

/** What a transaction body may do: the same calls as the connection, inside the open transaction. */
export interface Queryable {
  run(sql: string, params?: Params): Promise<RunResult>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  /** Several statements without parameters. */
  exec(sql: string): Promise<void>;
}

/** A transaction body's handle: queries inside the transaction, and work to do only once it commits. */
export interface Transaction extends Queryable {
  /** Runs `fn` after COMMIT succeeds (never on rollback): for caches that must not learn uncommitted facts. */
  afterCommit(fn: () => void): void;
  /**
   * Runs `fn` inside a SAVEPOINT: if it throws, only its writes (and its afterCommit hooks) are
   * undone and the error is rethrown; the transaction goes on. If sqlite cannot roll back to
   * the savepoint, the transaction is lost and a TransactionLost carries the original error.
   */
  savepoint<R>(fn: (tx: Transaction) => Promise<R>): Promise<R>;
}

/** The transaction could not be rolled back to a savepoint, so it cannot go on. */
export class TransactionLost extends Error {
  constructor(readonly original: unknown, readonly rollbackError: unknown) {
    super('transaction lost: rollback to savepoint failed', { cause: rollbackError });
  }
}

export interface DbOptions {
  readonly?: boolean;
  busyTimeoutMs?: number;
}

export interface EachOptions {
  pageSize?: number;
  signal?: AbortSignal;
}

/**
 * Builds the SQL for one page. `after` is the last row of the previous page (undefined for the
 * first page); the query must order by a unique key and continue strictly after that row, with
 * `LIMIT` bound to `limit`.
 */
export type PageQuery<T> = (after: T | undefined, limit: number) => readonly [string, Params];

/** Cached prepared statements: multi-row inserts are expensive to prepare and are reused every batch. */
const MAX_CACHED_STATEMENTS = 256;

export class Db implements Queryable {
  private closed = false;
  /** Tail of the write queue: every write and transaction chains onto it, so none interleave. */
  private writeTail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, sqlite3.Statement>();
  /** Called after every committed transaction. */
  onCommit: (() => void) | undefined;

  private constructor(
    private readonly raw: sqlite3.Database,
    readonly path: string,
  ) {}

  static open(path: string, options: DbOptions = {}): Promise<Db> {
    const mode = options.readonly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    return new Promise((resolve, reject) => {
      const raw = new sqlite3.Database(path, mode, (err) => {
        if (err) return reject(fromSqlite(err, `open ${path}`));
        raw.configure('busyTimeout', options.busyTimeoutMs ?? 5000);
        resolve(new Db(raw, path));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A write outside any transaction still waits for the write queue, so it never lands inside someone else's transaction. */
  run(sql: string, params: Params = []): Promise<RunResult> {
    return this.enqueue(() => this.rawRun(sql, params));
  }

  /**
   * Reads do not wait for the write queue. On the writer connection they may see an open
   * transaction's uncommitted rows; the store reads through a separate reader connection.
   */
  get<T>(sql: string, params: Params = []): Promise<T | undefined> {
    return this.closed ? Promise.reject(this.closedError()) : this.rawGet(sql, params);
  }

  all<T>(sql: string, params: Params = []): Promise<T[]> {
    return this.closed ? Promise.reject(this.closedError()) : this.rawAll(sql, params);
  }

  /** Several statements without parameters (pragmas, migrations); waits for the write queue. */
  exec(sql: string): Promise<void> {
    return this.enqueue(() => this.rawExec(sql));
  }

  /**
   * Streams rows page by page with keyset pagination. Why not `Statement#each`: it pushes every
   * row as fast as sqlite produces it, with no way to pause, so a slow consumer would buffer the
   * whole result; and a statement kept open across awaits would pin one read snapshot (and the
   * WAL behind it) for as long as the consumer dawdles. Here at most one page is in memory, each
   * page is a short read of its own, and the next page is fetched only when the consumer asks.
   * Rows inserted while iterating may or may not appear; rows present throughout appear exactly once.
   */
  async *each<T>(query: PageQuery<T>, options: EachOptions = {}): AsyncIterableIterator<T> {
    const pageSize = options.pageSize ?? 1000;
    let after: T | undefined;
    for (;;) {
      if (options.signal?.aborted) throw abortError(options.signal, 'each');
      const [sql, params] = query(after, pageSize);
      const page = await this.all<T>(sql, [...params]);
      for (const row of page) yield row;
      if (page.length < pageSize) return;
      after = page[page.length - 1];
    }
  }

  /**
   * Runs `fn` inside BEGIN IMMEDIATE … COMMIT, rolling back if it throws. IMMEDIATE takes the
   * write lock up front, so a transaction never fails half-way on a lock upgrade. Transactions
   * queue behind each other: sqlite has one transaction per connection, and two async bodies
   * awaiting in turn would otherwise mix their statements into one.
   */
  transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.enqueue(async () => {
      await this.rawExec('BEGIN IMMEDIATE');
      let done = false;
      let savepoints = 0;
      const onCommit: Array<() => void> = [];
      const guard = <T>(work: () => Promise<T>): Promise<T> => (done ? Promise.reject(txOver()) : work());
      // The body runs from the queue, so it may finish even after close() was called: close waits for it.
      const handle = (hooks: Array<() => void>): Transaction => ({
        run: (sql, params = []) => guard(() => this.rawRun(sql, params)),
        get: (sql, params = []) => guard(() => this.rawGet(sql, params)),
        all: (sql, params = []) => guard(() => this.rawAll(sql, params)),
        exec: (sql) => guard(() => this.rawExec(sql)),
        afterCommit: (f) => void hooks.push(f),
        savepoint: (body) =>
          guard(async () => {
            const name = `sp${++savepoints}`;
            const inner: Array<() => void> = [];
            await this.rawExec(`SAVEPOINT ${name}`);
            try {
              const result = await body(handle(inner));
              await this.rawExec(`RELEASE ${name}`);
              hooks.push(...inner);
              return result;
            } catch (e) {
              try {
                await this.rawExec(`ROLLBACK TO ${name}; RELEASE ${name}`);
              } catch (rollbackError) {
                throw new TransactionLost(e, rollbackError);
              }
              throw e;
            }
          }),
      });
      const tx = handle(onCommit);
      try {
        const result = await fn(tx);
        done = true;
        await this.rawExec('COMMIT');
        for (const f of onCommit) f();
        this.onCommit?.();
        return result;
      } catch (e) {
        done = true;
        // ROLLBACK can fail if sqlite already rolled back (e.g. SQLITE_FULL); the first error is the one that matters.
        await this.rawExec('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  /** Waits for queued writes, finalises cached statements and closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeTail.catch(() => undefined);
    for (const stmt of this.statements.values()) await new Promise<void>((r) => stmt.finalize(() => r()));
    this.statements.clear();
    await new Promise<void>((resolve, reject) =>
      this.raw.close((err) => (err ? reject(fromSqlite(err, 'close')) : resolve())),
    );
  }

  private enqueue<R>(work: () => Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(this.closedError());
    const result = this.writeTail.then(work);
    this.writeTail = result.catch(() => undefined);
    return result;
  }

  private closedError(): StoreError {
    return new StoreError('STORE_CLOSED', `store ${this.path} is closed`);
  }

  private rawGet<T>(sql: string, params: Params): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(fromSqlite(err, firstLine(sql))) : resolve(row)));
    });
  }

  private rawAll<T>(sql: string, params: Params): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(fromSqlite(err, firstLine(sql))) : resolve(rows)));
    });
  }

  private rawExec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.raw.exec(sql, (err) => (err ? reject(fromSqlite(err, firstLine(sql))) : resolve())),
    );
  }

  private async rawRun(sql: string, params: Params): Promise<RunResult> {
    const stmt = await this.prepared(sql);
    return new Promise((resolve, reject) => {
      stmt.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) return reject(fromSqlite(err, firstLine(sql)));
        resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  private prepared(sql: string): Promise<sqlite3.Statement> {
    const cached = this.statements.get(sql);
    if (cached) {
      // Re-insert to keep the map in least-recently-used order.
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return Promise.resolve(cached);
    }
    return new Promise((resolve, reject) => {
      const stmt = this.raw.prepare(sql, (err) => {
        if (err) return reject(fromSqlite(err, firstLine(sql)));
        this.statements.set(sql, stmt);
        if (this.statements.size > MAX_CACHED_STATEMENTS) {
          const [oldest, old] = this.statements.entries().next().value as [string, sqlite3.Statement];
          this.statements.delete(oldest);
          old.finalize();
        }
        resolve(stmt);
      });
    });
  }
}

function txOver(): StoreError {
  return new StoreError('STORE_INVALID_ARGUMENT', 'transaction already finished');
}

function firstLine(sql: string): string {
  const line = sql.trim().split('\n', 1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
