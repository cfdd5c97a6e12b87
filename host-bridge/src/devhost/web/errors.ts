/** Typed errors of the devhost web UI, with stable codes and the HTTP status each one answers with. */

export const WEB_ERROR_STATUS = {
  INVALID_ARGUMENT: 400,
  INVALID_CERTIFICATE: 400,
  UNAUTHENTICATED: 401,
  BAD_HOST: 403,
  BAD_ORIGIN: 403,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  FAILED_PRECONDITION: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PANEL_URL_REFUSED: 422,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type WebErrorCode = keyof typeof WEB_ERROR_STATUS;

export class WebError extends Error {
  override readonly name = 'WebError';
  constructor(readonly code: WebErrorCode, message: string) {
    super(message);
  }
  get status(): number {
    return WEB_ERROR_STATUS[this.code];
  }
}

function isWebErrorCode(code: unknown): code is WebErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(WEB_ERROR_STATUS, code);
}

/**
 * Turns whatever the backend threw into a WebError. Codes the UI knows (HostError's codes are a
 * subset) keep their meaning; anything else becomes `fallback`, because a backend failure the UI
 * cannot classify is still worth showing with its own message rather than hidden.
 */
export function fromBackendError(err: unknown, fallback: WebErrorCode): WebError {
  if (err instanceof WebError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error && err.message ? err.message : String(err);
  // The backend's UNAUTHENTICATED is about a peer, not about this UI's token: do not answer 401.
  if (isWebErrorCode(code) && code !== 'UNAUTHENTICATED' && code !== 'BAD_HOST' && code !== 'BAD_ORIGIN') {
    return new WebError(code, message);
  }
  return new WebError(fallback, message);
}
