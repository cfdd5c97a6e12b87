/** The folders this node holds: create, invite, join, leave; their engines and their sync sessions over the host's links. */
export * from './types';
export { ServiceError, isServiceError, type ServiceErrorCode } from './errors';
