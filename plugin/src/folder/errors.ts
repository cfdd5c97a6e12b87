/**
 * Typed folder-engine errors. Codes are stable strings: callers branch on `code`, never on message text.
 * - FOLDER_NOT_STARTED: the engine is stopped (or was never started).
 * - FOLDER_NO_CONFLICT: `resolve` on a path that has one head.
 * - FOLDER_UNKNOWN_VERSION: `resolve` asked to keep a hash that is not a head of the path.
 * - FOLDER_NOTHING_TO_RESTORE: the version restored holds nothing the log can carry.
 * - FOLDER_NO_COPY_NAME: every conflict-copy name tried for a refused local change is taken.
 * - FOLDER_ABORTED: the caller's AbortSignal fired.
 */
export type FolderErrorCode = 'FOLDER_NOT_STARTED' | 'FOLDER_NO_CONFLICT' | 'FOLDER_UNKNOWN_VERSION' | 'FOLDER_NOTHING_TO_RESTORE' | 'FOLDER_NO_COPY_NAME' | 'FOLDER_ABORTED';

export class FolderError extends Error {
  override readonly name = 'FolderError';
  constructor(
    readonly code: FolderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFolderError(e: unknown, code?: FolderErrorCode): e is FolderError {
  return e instanceof FolderError && (code === undefined || e.code === code);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FolderError('FOLDER_ABORTED', 'folder engine aborted', { cause: signal.reason });
}
