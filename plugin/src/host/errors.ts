/** Typed errors of the host client; codes are gRPC status names, so a server refusal keeps its meaning. */
import { type ServiceError, status } from '@grpc/grpc-js';

export type HostClientErrorCode = keyof typeof status;

export class HostClientError extends Error {
  override readonly name = 'HostClientError';
  constructor(
    readonly code: HostClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function statusName(code: number): HostClientErrorCode {
  const name = status[code] as HostClientErrorCode | undefined;
  return name ?? 'UNKNOWN';
}

export function fromServiceError(err: Partial<ServiceError>): HostClientError {
  const code = statusName(err.code ?? status.UNKNOWN);
  return new HostClientError(code, err.details || err.message || code);
}
