/**
 * Typed scanner errors. Codes are stable strings: callers branch on `code`, never on message text.
 * - ABORTED: the caller's AbortSignal fired; nothing was emitted for the interrupted file.
 * - FILE_CHANGED_DURING_SCAN: size, mtime or inode moved while hashing; the hash is meaningless, retry later.
 * - NOT_A_REGULAR_FILE: hashFile was pointed at a directory, symlink or device.
 * - IO_ERROR: the filesystem refused (permissions, vanished parent, ...); `cause` holds the errno error.
 * - PROBE_FAILED: the filesystem-traits probe could not create its test files.
 * - INVALID_OPTIONS: chunker sizes out of order, concurrency below 1, and the like.
 */
export type ScanErrorCode =
  | 'ABORTED'
  | 'FILE_CHANGED_DURING_SCAN'
  | 'NOT_A_REGULAR_FILE'
  | 'IO_ERROR'
  | 'PROBE_FAILED'
  | 'INVALID_OPTIONS';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  constructor(
    readonly code: ScanErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Throws ScanError('ABORTED') when the signal has fired; the hot loops call this per read. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ScanError('ABORTED', 'scan aborted', { cause: signal.reason });
}

export function isScanError(e: unknown, code?: ScanErrorCode): e is ScanError {
  return e instanceof ScanError && (code === undefined || e.code === code);
}
