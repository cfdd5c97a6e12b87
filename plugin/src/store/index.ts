/** The sidecar's SQLite store (WAL): entries, heads, version vectors, checkpoints, manifests, forks, local index, block locations, peer vectors. */
export { Store, type StoreOptions } from './store';
export type { EntryStore } from './entries';
export type { CutStore, FeedCut } from './cut';
export type { ForgetStore } from './forget';
export type { RefusedStore } from './refused';
export type { ManifestStore } from './manifests';
export type { LocalIndexStore } from './local-index';
export type { LocalBaseStore, LocalBaseRecord } from './local-base';
export type { BlockIndex } from './blocks';
export type { BlockPaths } from './block-paths';
export type { PeerVectorStore } from './peer-vectors';
export type { StreamOptions } from './context';
export { StoreError, isStoreError, type StoreErrorCode } from './errors';
export * from './records';
