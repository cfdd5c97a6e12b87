/** Typed errors of the host side, with stable codes that map one-to-one onto gRPC statuses. */
import { status } from '@grpc/grpc-js';

export const HOST_ERROR_STATUS = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  UNAVAILABLE: status.UNAVAILABLE,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  INTERNAL: status.INTERNAL,
} as const;

export type HostErrorCode = keyof typeof HOST_ERROR_STATUS;

export class HostError extends Error {
  override readonly name = 'HostError';
  constructor(readonly code: HostErrorCode, message: string) {
    super(message);
  }
}
