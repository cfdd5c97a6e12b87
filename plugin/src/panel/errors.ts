/** Typed errors of the panel's API, and the one table that turns them and the folder service's codes into HTTP statuses. */
import { isServiceError, type ServiceErrorCode } from '../folders/errors';

export type PanelErrorCode =
  /** A body, path parameter or query that is not what the route takes. */
  | 'BAD_INPUT'
  /** A request body over the limit. */
  | 'TOO_LARGE'
  /** A write without `content-type: application/json`. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** No token, or not the one the host issued. */
  | 'UNAUTHENTICATED'
  /** The Host header does not name this loopback server (a DNS-rebinding page). */
  | 'BAD_HOST'
  /** The host has not issued a token yet: ask again in a moment. */
  | 'UNAVAILABLE'
  /** The sidecar runs no folder service (yet): only GET /api/status answers. */
  | 'NO_FOLDER_SERVICE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED';

export class PanelError extends Error {
  override readonly name = 'PanelError';
  constructor(readonly code: PanelErrorCode, message: string) {
    super(message);
  }
}

const PANEL_STATUS: Record<PanelErrorCode, number> = {
  BAD_INPUT: 400,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  BAD_HOST: 403,
  UNAVAILABLE: 503,
  NO_FOLDER_SERVICE: 503,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
};

/** The folder service's refusals as HTTP statuses; the body keeps the service's own code and message. */
export const SERVICE_STATUS: Record<ServiceErrorCode, number> = {
  NOT_FOUND: 404,
  NOT_ADMIN: 403,
  NOT_A_WRITER: 403,
  LAST_ADMIN: 403,
  BAD_INPUT: 400,
  ALREADY_EXISTS: 409,
  CONFLICT_GONE: 409,
  HOST_UNAVAILABLE: 503,
  CLOSED: 503,
  INTERNAL: 500,
};

export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** What the API answers for a thrown error: `{ error: { code, message } }` with this status. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof PanelError) return { status: PANEL_STATUS[err.code], code: err.code, message: err.message };
  if (isServiceError(err)) return { status: SERVICE_STATUS[err.code] ?? 500, code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, code: 'INTERNAL', message: `the sidecar failed: ${message}` };
}
