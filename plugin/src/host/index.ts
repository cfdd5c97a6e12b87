/** The sidecar's typed client of the host contract: unary calls, reconnecting rxjs streams, and host signature checks. */
export { HostClient } from './client';
export type { CallOptions, HostClientLog, HostClientOptions } from './client';
export { HostClientError, statusName } from './errors';
export type { HostClientErrorCode } from './errors';
export { verifyHostSignature } from './verify';
export type { HostSignatureCheck } from './verify';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff';
export type { BackoffOptions } from './backoff';
export * from './types';
export * as wire from './wire';
