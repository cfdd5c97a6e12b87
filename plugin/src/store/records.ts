/**
 * Records the store persists. The log has already encoded, hashed and validated them; the
 * store keeps them and answers questions about them, and never interprets `bytes`.
 * Hashes are 64 lowercase hex characters (SHA-256) and are kept as 32-byte blobs on disk.
 */

/** The first seq of every feed; a version vector counts contiguous seqs from here. */
export const FIRST_SEQ = 1;

export interface EntryRecord {
  folder: string;
  /** Author fingerprint. */
  author: string;
  seq: number;
  hash: string;
  /** Hash of the author's entry at seq - 1; null at FIRST_SEQ. */
  prev: string | null;
  lamport: number;
  /** Paths the entry touches: one, or two for a move (from, to). */
  paths: string[];
  /** Hashes of the versions this entry supersedes, on every path it touches. */
  parents: string[];
  /** The canonical encoding, exactly as hashed. */
  bytes: Buffer;
}

export interface CheckpointRecord {
  folder: string;
  author: string;
  seq: number;
  entryHash: string;
  signature: Buffer;
}

export interface ManifestRecord {
  folder: string;
  version: number;
  hash: string;
  /** Hash of the manifest version this one follows; null for genesis. */
  prev: string | null;
  /** Fingerprint of the admin (or creator) who signed it. */
  author: string;
  bytes: Buffer;
  signature: Buffer;
  /** Lost a concurrent-edit resolution: kept and reported, never the current version. */
  overruled: boolean;
}

/** Two different entries at one (author, seq): both kept as evidence. */
export interface ForkRecord {
  folder: string;
  author: string;
  seq: number;
  hashA: string;
  hashB: string;
  bytesA: Buffer;
  bytesB: Buffer;
  detectedAtMs: number;
  /** What proves the fork to others: encoded entries from seq up to the checkpoints, and the encoded signed checkpoints. */
  proof?: { entries: Buffer[]; checkpoints: Buffer[] };
}

export type LocalFileType = 'file' | 'dir' | 'symlink';

/** What the scanner last saw at a path on this node's disk. */
export interface LocalFileRecord {
  folder: string;
  path: string;
  size: number;
  mtimeMs: number;
  inode: number;
  mode: number;
  /** Content hash in the scanner's own format; null for directories or not yet hashed. */
  contentHash: string | null;
  type: LocalFileType;
}

/** Where a block with this hash can be read on this node. */
export interface BlockLocation {
  hash: string;
  size: number;
  folder: string;
  path: string;
  offset: number;
}

/** One author's position in a peer's version vector, as the peer last told us. */
export interface PeerVector {
  folder: string;
  peer: string;
  author: string;
  seq: number;
}

/** A head of a path: enough to pick the winner (Lamport, then author) without loading the entry. */
export interface HeadRef {
  hash: string;
  author: string;
  seq: number;
  lamport: number;
}

export interface PathHeads {
  path: string;
  /** Ordered by hash; more than one is a conflict. */
  heads: HeadRef[];
}

/** Highest contiguous seq stored per author, and the hash of the entry at it. */
export type VersionVector = Map<string, { seq: number; head: string }>;

export interface AppendBatch {
  entries?: readonly EntryRecord[];
  checkpoints?: readonly CheckpointRecord[];
  forks?: readonly ForkRecord[];
}

export interface AppendResult {
  /** Entries newly stored; duplicates by hash are not counted. */
  entriesInserted: number;
  checkpointsInserted: number;
  forksInserted: number;
}
