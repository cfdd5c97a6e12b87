/** Typed store errors with stable codes; the sqlite message rides along so nothing is lost. */

export type StoreErrorCode =
  | 'STORE_CLOSED'
  | 'STORE_CORRUPT'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_CONSTRAINT'
  | 'STORE_ABORTED'
  | 'STORE_INVALID_ARGUMENT'
  | 'STORE_IO';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** The sqlite error code (e.g. `SQLITE_CONSTRAINT`) when sqlite raised it. */
    readonly sqliteCode?: string,
    /** The message sqlite gave, verbatim. */
    readonly sqliteMessage?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}

/** Map a raw sqlite3 error to a StoreError; anything already typed passes through. */
export function fromSqlite(e: unknown, context: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as { code?: string; message?: string };
  const sqliteCode = typeof err?.code === 'string' ? err.code : undefined;
  const sqliteMessage = typeof err?.message === 'string' ? err.message : String(e);
  const code: StoreErrorCode =
    sqliteCode === 'SQLITE_CORRUPT' || sqliteCode === 'SQLITE_NOTADB'
      ? 'STORE_CORRUPT'
      : sqliteCode === 'SQLITE_CONSTRAINT'
        ? 'STORE_CONSTRAINT'
        : sqliteCode === 'SQLITE_MISUSE' && /closed/i.test(sqliteMessage)
          ? 'STORE_CLOSED'
          : 'STORE_IO';
  return new StoreError(code, `${context}: ${sqliteMessage}`, sqliteCode, sqliteMessage, { cause: e });
}

export function abortError(signal: AbortSignal, context: string): StoreError {
  return new StoreError('STORE_ABORTED', `${context}: aborted`, undefined, undefined, { cause: signal.reason });
}
