/** One boundary table: host and server errors become gRPC statuses, everything else INTERNAL. */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { HOST_ERROR_STATUS, HostError } from '../errors';
import { REFUSAL_STATUS, Refusal } from './errors';

export interface WireStatus {
  code: status;
  details: string;
}

export function toStatus(err: unknown): WireStatus {
  if (err instanceof Refusal) return { code: REFUSAL_STATUS[err.code], details: err.message };
  if (err instanceof HostError) return { code: HOST_ERROR_STATUS[err.code] ?? status.INTERNAL, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: `host failed: ${message}` };
}

export function toServiceError(err: unknown): Partial<ServiceError> {
  const s = toStatus(err);
  return { code: s.code, details: s.details, metadata: new Metadata(), message: s.details };
}
