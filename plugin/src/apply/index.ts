/** Turns a folder's resolved state into files: verified blocks, temp file, fsync, atomic rename; versions and conflict copies so nothing is lost. */
export { ApplyError, isApplyError, type ApplyErrorCode } from './errors';
export { safePath, ensureParents, lexicalProblem, fsyncDir, type SafePathOptions } from './safe-path';
export { LocalBlockSource, ChainedBlockSource, type BlockSource } from './blocks';
export { cleanTemp, TMP_REL, TEMP_PREFIX } from './temp';
export { clearPartials, PARTIAL_PREFIX } from './partial';
export {
  applyPut,
  applyDelete,
  buildFile,
  matchesRecord,
  recordOf,
  APPLIED_MODE_MASK,
  utimesSeconds,
  type FileApplyContext,
  type ApplyLocalIndex,
  type ApplyBlockIndex,
  type LocalChangedConflict,
  type PathOutcome,
  type StatLike,
} from './apply-file';
export { Versions, versionName, parseVersionName, VERSIONS_REL, type Retention, type KeptVersion, type VersionsOptions, type RestoredFile } from './versions';
export { conflictCopiesOf, writeConflictCopies, staleCopies, removeCopies, resolvedCopies, removeResolvedCopies, type ConflictCopy, type StaleCopyChecks } from './conflicts';
export { resolveWith, versionAt, entryLookup, type HeadRef, type ResolutionRef, type EntryLookup, type ResolvedVersion, type ResolvedPath } from './resolved';
export { IndexRecorder } from './recorder';
export { Committer } from './committer';
export { GroupSync, type GroupSyncOptions } from './group-sync';
export { EmptyFiles } from './empty-files';
export { applyState, recordShows, DEFAULT_CONCURRENCY, GROUPED_CONCURRENCY, type ApplyStateOptions, type ApplyReport, type ApplyProgress, type Refusal } from './applier';
