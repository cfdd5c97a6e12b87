/** Typed errors of the replica: stable string codes, so callers branch on `code`, never on text. */

export type ReplicaErrorCode =
  /** The store holds no manifest for the folder (open), or a genesis already (create). */
  | 'NO_MANIFEST'
  | 'ALREADY_CREATED'
  /** The local identity may not do this under the current manifest. */
  | 'NOT_ADMIN'
  | 'WRITE_REFUSED'
  /** The manifest edit breaks a transition rule (REVOKE_FIRST, LAST_ADMIN, ...): see `reason`. */
  | 'MANIFEST_REFUSED'
  /** A change names another folder or author, or an unclean path. */
  | 'BAD_CHANGE'
  | 'UNKNOWN_MEMBER'
  /** The batch before this one failed to commit, so this one was not stored either (tips are reloaded). */
  | 'PREVIOUS_COMMIT_FAILED'
  | 'ABORTED'
  | 'CLOSED';

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  constructor(
    readonly code: ReplicaErrorCode,
    message: string,
    /** The finer reason from the acl or log (e.g. NOT_A_WRITER, OUTSIDE_PATH_GRANT, REVOKE_FIRST). */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}${reason ? `/${reason}` : ''}: ${message}`, options);
  }
}

export function isReplicaError(e: unknown, code?: ReplicaErrorCode): e is ReplicaError {
  return e instanceof ReplicaError && (code === undefined || e.code === code);
}

export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new ReplicaError('ABORTED', `${what}: aborted`, undefined, { cause: signal.reason });
}
