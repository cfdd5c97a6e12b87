/** Typed errors of the folder service: stable codes the panel's API maps to HTTP statuses and shows as they are. */

export type ServiceErrorCode =
  /** No such folder, invitation, member, path or version here. */
  | 'NOT_FOUND'
  /** The action needs an admin of the folder's current manifest. */
  | 'NOT_ADMIN'
  /** The action writes to the folder (restore, resolve) and this member may not write there. */
  | 'NOT_A_WRITER'
  /** The folder would be left without an admin. */
  | 'LAST_ADMIN'
  /** The input is not acceptable (a bad name, a path outside the folder, a root that is not empty). */
  | 'BAD_INPUT'
  /** A folder with that id or root is here already. */
  | 'ALREADY_EXISTS'
  /** The conflict was settled meanwhile (by us or a peer). */
  | 'CONFLICT_GONE'
  /** The host is not reachable: nothing can be signed or sent now. */
  | 'HOST_UNAVAILABLE'
  /** The service is stopping or stopped. */
  | 'CLOSED'
  /** Something failed below (store, disk); the message says what. */
  | 'INTERNAL';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(readonly code: ServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const isServiceError = (e: unknown, code?: ServiceErrorCode): e is ServiceError => e instanceof ServiceError && (code === undefined || e.code === code);
