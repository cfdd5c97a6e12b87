/** Typed errors of the sync protocol: stable string codes, so callers branch on `code`, never on text. */

export type SyncErrorCode =
  /** Bytes from a peer that are not a well-formed, bounded message (the session goes on). */
  | 'SYNC_MALFORMED'
  /** A message this node was about to send breaks a bound or holds an invalid field (a bug here). */
  | 'SYNC_ENCODE_INVALID'
  /** A block request got no verified answer from any peer. */
  | 'SYNC_BLOCK_FAILED'
  /** The session or link was closed or aborted. */
  | 'SYNC_CLOSED';

export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(readonly code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
  }
}

export const isSyncError = (e: unknown, code?: SyncErrorCode): e is SyncError => e instanceof SyncError && (code === undefined || e.code === code);
