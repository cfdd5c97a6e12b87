/** The host contract's gRPC server over a HostAdapter: tokens, manifests, capabilities, and the five services plus health. */
export { createHostServer, HOST_SERVICE_NAMES } from './host-server';
export type { HostServer, HostServerListen, HostServerOptions } from './host-server';
export type { HostServerLog } from './context';
export { PluginRegistry } from './registry';
export { validateManifest, PLUGIN_MANIFEST_SCHEMA_PATH } from './manifest';
export type { PluginManifest } from './manifest';
export { ALLOWED_NODE_ARGS, nodeArgProblems } from './node-args';
export { mallocEnv, mallocProblems, type MallocTuning } from './malloc-env';
export { PluginManifestError, Refusal, REFUSAL_STATUS } from './errors';
export type { PluginManifestErrorCode, RefusalCode } from './errors';
export { toStatus } from './status';
export { LINK_HOLD_BYTES, LINK_OUTBOUND_QUEUE_BYTES } from './services/links';
