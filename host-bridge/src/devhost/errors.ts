/** Typed errors of the devhost (identity, certificates, friends, control socket), with stable codes. */
import type { HostErrorCode } from '../errors';

export type DevhostErrorCode =
  | 'CERT_INVALID'
  | 'SELF_FRIEND'
  | 'NOT_A_FRIEND'
  | 'IDENTITY_INVALID'
  | 'STORE_CORRUPT'
  | 'NOT_RUNNING'
  | 'CONTROL_FAILED';

/** How each devhost code surfaces at the host contract boundary. */
export const DEVHOST_ERROR_HOST_CODE: Record<DevhostErrorCode, HostErrorCode> = {
  CERT_INVALID: 'INVALID_ARGUMENT',
  SELF_FRIEND: 'INVALID_ARGUMENT',
  NOT_A_FRIEND: 'NOT_FOUND',
  IDENTITY_INVALID: 'FAILED_PRECONDITION',
  STORE_CORRUPT: 'INTERNAL',
  NOT_RUNNING: 'UNAVAILABLE',
  CONTROL_FAILED: 'UNAVAILABLE',
};

export class DevhostError extends Error {
  override readonly name = 'DevhostError';
  constructor(
    readonly code: DevhostErrorCode,
    message: string,
    /** For CERT_INVALID: which check failed, stable enough to show a user. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export const certInvalid = (reason: string, detail?: string): DevhostError =>
  new DevhostError('CERT_INVALID', `certificate refused: ${reason}${detail ? ` (${detail})` : ''}`, reason);
