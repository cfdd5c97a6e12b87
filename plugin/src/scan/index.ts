// The scanner's foundations: content-defined chunking, file hashing, ignore rules, local name rules and the tree walk.
export { BlockChunker, blockSizes, chunkBuffer, chunkStream, DEFAULT_CHUNKER_OPTIONS, type ChunkerOptions } from './chunker';
export { ScanError, isScanError, type ScanErrorCode } from './errors';
export { hashFile, hashFileAuto, hashFileSync, READ_SIZE, SYNC_READ_BELOW, type HashedFile, type HashFileFn, type HashFileOptions } from './hash-file';
export { BUILTIN_IGNORE_PATTERNS, IgnoreRules, KINIGNORE_FILE, META_DIR } from './ignore';
export {
  componentProblem,
  LocalNames,
  localKey,
  localNameProblem,
  POSIX_TRAITS,
  probeFilesystem,
  type FsTraits,
  type LocalNameProblem,
  type LocalNameProblemCode,
} from './local-names';
export { linkEscapes, walkFolder, type WalkOptions } from './walk';
export {
  EMPTY_SHA256,
  type HashedContent,
  type LocalFileRecord,
  type ScannedBlock,
  type ScannedFile,
  type ScannedType,
  type ScanProblem,
  type ScanProblemCode,
} from './types';
export { HashPool, type HashPoolOptions } from './hash-pool';
export {
  detectChanges,
  fileMeta,
  pathsOfChange,
  statUnchanged,
  toNewChanges,
  type ChangeContext,
  type ChangeSet,
  type DetectOptions,
  type KnownFile,
  type LocalChange,
  type Observation,
  type UnannounceablePath,
} from './changes';
export { DEFAULT_MAX_WAIT_MS, DEFAULT_QUIET_MS, DEFAULT_SETTLE_MS, FolderWatcher, type FolderWatcherOptions } from './watcher';
export { DEFAULT_RESCAN_INTERVAL_MS, FolderScanner, type FolderScannerOptions, type ScanEvent, type ScanEventProblemCode } from './folder-scanner';
export { mapLimit } from './map-limit';
