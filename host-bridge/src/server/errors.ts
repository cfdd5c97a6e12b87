/** Typed errors of the contract server: manifest problems and request refusals, each with a stable code. */
import { status } from '@grpc/grpc-js';

export type PluginManifestErrorCode = 'MANIFEST_INVALID';

/** A plugin manifest that does not match `proto/plugin-manifest.schema.json`. */
export class PluginManifestError extends Error {
  override readonly name = 'PluginManifestError';
  constructor(
    readonly code: PluginManifestErrorCode,
    message: string,
    /** One line per schema violation, each starting with its JSON path. */
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** Why the server refused a call; the codes are gRPC status names so the table below is the whole mapping. */
export const REFUSAL_STATUS = {
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
} as const;

export type RefusalCode = keyof typeof REFUSAL_STATUS;

export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}
