/** The devhost's web UI: friends, chat and plugin panels in the browser, on loopback, behind a token. */
export type { DevhostUiBackend } from './backend';
export { startDevhostWeb, type DevhostWeb, type DevhostWebOptions } from './server';
export { WebError, WEB_ERROR_STATUS, type WebErrorCode } from './errors';
export type { LiveMessage } from './live';
