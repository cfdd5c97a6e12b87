/** The devhost: a small, complete host node (PGP identity, friends, secure links, chat, panels) and its CLI entry. */
export { DevhostNode, DEVHOST_SOFTWARE } from './node';
export type { DevhostNodeOptions } from './node';
export { DevhostError, DEVHOST_ERROR_HOST_CODE } from './errors';
export type { DevhostErrorCode } from './errors';
export { createCertificate, parseCertificate, CERT_PREFIX } from './certificate';
export type { ParsedCertificate } from './certificate';
export { loadOrCreateIdentity, loadIdentity, identityExists, identityPaths } from './identity';
export type { Identity, KeyType } from './identity';
export type { Friend } from './friends';
export { HISTORY_PER_CONVERSATION } from './chat';
export type { LinkEvent, RefusalReason, LinkTimings } from './links';
export { runDevhost } from './run';
export type { RunDevhostOptions, RunningDevhost } from './run';
