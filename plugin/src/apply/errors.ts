/**
 * Typed apply errors. Codes are stable strings: callers branch on `code`, never on message text.
 * - APPLY_UNSAFE_PATH: the path would leave the folder (`..`, absolute, through a symlink, a link pointing out).
 * - APPLY_LOCAL_NAME: this filesystem cannot hold the name (reported, never mangled).
 * - APPLY_BLOCK_UNAVAILABLE: no source had a block with the right hash.
 * - APPLY_HASH_MISMATCH: the built file does not hash to what the entry says.
 * - APPLY_NOT_EMPTY: a directory stands where a file must go and still holds files.
 * - APPLY_VERSION_NOT_FOUND: no such kept version of that path.
 * - APPLY_ENTRY_UNKNOWN: a head of the path names an entry the lookup does not have.
 * - APPLY_ABORTED: the caller's AbortSignal fired; the target was left as it was.
 * - APPLY_IO: the filesystem refused; `cause` holds the errno error.
 */
export type ApplyErrorCode =
  | 'APPLY_UNSAFE_PATH'
  | 'APPLY_LOCAL_NAME'
  | 'APPLY_BLOCK_UNAVAILABLE'
  | 'APPLY_HASH_MISMATCH'
  | 'APPLY_NOT_EMPTY'
  | 'APPLY_VERSION_NOT_FOUND'
  | 'APPLY_ENTRY_UNKNOWN'
  | 'APPLY_ABORTED'
  | 'APPLY_IO';

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly code: ApplyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isApplyError(e: unknown, code?: ApplyErrorCode): e is ApplyError {
  return e instanceof ApplyError && (code === undefined || e.code === code);
}

export function throwIfAborted(signal: AbortSignal | undefined, what = 'apply'): void {
  if (signal?.aborted) throw new ApplyError('APPLY_ABORTED', `${what} aborted`, { cause: signal.reason });
}

/** Wraps an errno error; ApplyErrors pass through unchanged. */
export function ioError(message: string, e: unknown): ApplyError {
  if (e instanceof ApplyError) return e;
  return new ApplyError('APPLY_IO', `${message}: ${(e as Error).message}`, { cause: e });
}

export const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;
