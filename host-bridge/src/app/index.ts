/** A complete devhost as people run it: node, contract server, web UI and plugin processes. */
export { startDevhostApp, loadManifestFile } from './devhost-app';
export type { DevhostApp, DevhostAppOptions } from './devhost-app';
export { startPluginProcess, pluginCommandLine, pluginMallocEnv } from './plugin-process';
export type { PluginProcess, PluginProcessOptions } from './plugin-process';
export { befriendAll } from './befriend';
