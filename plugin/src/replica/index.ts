/** One folder's replica on this node: the pure log and acl wired to the sqlite store (append, ingest, ranges, state). */
export {
  FolderReplica,
  type ReplicaOptions,
  type CreateOptions,
  type ReplicaStore,
  type IngestInput,
  type IngestResult,
  type IngestRefusal,
  type IngestDeferral,
  type EntryBatch,
  type LocalBatch,
  type FeedCutReport,
} from './replica';
export { ReplicaState, type HeadSource } from './state';
export { editedManifest, genesisManifest, normalMember, type ManifestEdit } from './manifest-edit';
export { ReplicaError, isReplicaError, type ReplicaErrorCode } from './errors';
