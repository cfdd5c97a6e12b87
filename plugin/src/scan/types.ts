/**
 * What the scanner reports about the disk. Deliberately its own types: a later step turns them
 * into log entries (`FileMeta`), with the same conventions: hashes are lower-case hex SHA-256,
 * a dir has size 0 and the hash of the empty string, a symlink has size 0 and the hash of its
 * target's UTF-8 bytes, mode is masked to 0o7777, mtimeMs is whole milliseconds.
 */

export type Hash = string;

export type ScannedType = 'file' | 'dir' | 'symlink';

/** One content-defined block: SHA-256 of its bytes and its length. */
export interface ScannedBlock {
  readonly hash: Hash;
  readonly size: number;
}

/** The content of a regular file as the chunker saw it. Block sizes add up to `size`. */
export interface HashedContent {
  readonly size: number;
  readonly contentHash: Hash;
  readonly blocks: readonly ScannedBlock[];
}

export interface ScannedFile {
  /** Relative to the folder root, '/'-separated, NFC. */
  readonly path: string;
  readonly type: ScannedType;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly inode: number;
  readonly contentHash: Hash;
  readonly blocks: readonly ScannedBlock[];
  readonly linkTarget?: string;
  /** Symlinks only: the target leaves the folder (absolute, or climbs above the root). Recorded, never followed. */
  readonly linkEscapes?: boolean;
}

/** What the scanner remembers of a path from the last scan; enough to skip re-reading it. */
export type LocalFileRecord = Pick<ScannedFile, 'path' | 'type' | 'size' | 'mtimeMs' | 'inode' | 'contentHash' | 'blocks'>;

export type ScanProblemCode =
  | 'NON_NFC_NAME'
  | 'INVALID_NAME_ENCODING'
  | 'UNREADABLE'
  | 'FILE_CHANGED_DURING_SCAN'
  | 'UNSUPPORTED_TYPE';

/**
 * A path the walk could not report. The walk does not yield it, so a consumer must treat it
 * (and, for a directory, its subtree) as "state unknown, keep what you had", never as deleted.
 */
export interface ScanProblem {
  readonly path: string;
  readonly code: ScanProblemCode;
  readonly message: string;
}

/** SHA-256 of zero bytes: the content hash of an empty file and of every directory. */
export const EMPTY_SHA256: Hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
