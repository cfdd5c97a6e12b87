/** One shared folder on this node: the scanner feeds the replica, and every append or ingest is applied to the disk, with base versions, undo, conflict resolution and local copies of refused edits. */
export { FolderEngine, type FolderEngineOptions, type EngineStore, type FolderEvent, type FolderConflict, type ConflictVersion, type DeletedFile, type Keep } from './engine';
export { FolderError, isFolderError, type FolderErrorCode } from './errors';
export { KeptBlockSource } from './kept-blocks';
export { LocalCopies, LOCAL_COPIES_REL } from './local-copies';
