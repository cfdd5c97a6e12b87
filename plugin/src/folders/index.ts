/** The folders this node holds: create, invite, join, leave; their engines and their sync sessions over the host's links. */
export * from './types';
export { ServiceError, isServiceError, type ServiceErrorCode } from './errors';
export { KinfolderService, type FolderHost, type FolderServiceOptions } from './service';
export { SharedFolder } from './shared-folder';
export { folderStatus, peerStatus, entriesBeyond, validPart, PEER_ANSWER_MS, type StatusFacts, type PeerFacts } from './status';
export { checkInvitation, type CheckedInvitation } from './invitation';
