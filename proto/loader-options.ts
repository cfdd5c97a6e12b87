/** proto-loader options shared by the runtime loader and the type generator. */
import type * as protoLoader from '@grpc/proto-loader';

/**
 * The one set of proto-loader options. `scripts/gen-proto-types.ts` passes the same
 * values to the type generator, so the generated types describe what the loader gives.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
} as const satisfies protoLoader.Options;

/** Generator flags equal to PROTO_LOADER_OPTIONS. */
export const PROTO_GEN_FLAGS = ['--longs=Number', '--enums=String', '--defaults', '--oneofs'];

