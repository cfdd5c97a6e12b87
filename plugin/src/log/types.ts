/**
 * Domain types of the file-metadata log. Identifiers are hex strings in domain objects
 * (cheap to compare, log, use as map keys); the encoding turns them into fixed-width bytes.
 *
 * - `Hash`: SHA-256, 64 lower-case hex characters.
 * - `Fingerprint`: OpenPGP v4 fingerprint, 40 upper-case hex characters.
 * - `FolderId`: 16 random bytes, 32 lower-case hex characters.
 */

export type Hash = string;
export type Fingerprint = string;
export type FolderId = string;

/** One content block of a file: its SHA-256 and its length in bytes. */
export interface BlockRef {
  readonly hash: Hash;
  readonly size: number;
}

export type FileType = 'file' | 'dir' | 'symlink';

/**
 * What a `put` (or the target of a `move`) says about the file. Invariants the encoder
 * enforces: a `file` has blocks whose sizes add up to `size`; a `dir` has size 0 and no
 * blocks; a `symlink` has no blocks, size 0 and a `linkTarget`; only symlinks have one.
 */
export interface FileMeta {
  readonly type: FileType;
  readonly size: number;
  /** POSIX permission bits (what `stat` gives, masked to 0o7777 by the scanner). */
  readonly mode: number;
  /** Modification time in ms since the epoch; for display and change detection only. */
  readonly mtimeMs: number;
  /** Files: `contentHashOf(blocks)` (SHA-256 over the block hashes); dirs: SHA-256 of ''; symlinks: SHA-256 of the target. */
  readonly contentHash: Hash;
  readonly blocks: readonly BlockRef[];
  readonly linkTarget?: string;
}

export type EntryBody =
  | { readonly op: 'put'; readonly path: string; readonly meta: FileMeta }
  | { readonly op: 'delete'; readonly path: string }
  | { readonly op: 'move'; readonly from: string; readonly to: string; readonly meta: FileMeta };

/** One change to a folder, the `seq`-th of its author's feed. Immutable, unique by hash. */
export interface Entry {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  /** 1-based position in the author's feed for this folder. */
  readonly seq: number;
  /** Hash of the author's entry at `seq - 1`; null exactly when `seq` is 1. */
  readonly prev: Hash | null;
  /** Lamport clock: greater than every parent's and than the author's previous entry's. */
  readonly lamport: number;
  /** Author's wall clock when the change was made; for display and conflict names only. */
  readonly wallTimeMs: number;
  /** Heads of the touched path(s) the author had seen and this entry supersedes; sorted, unique. */
  readonly parents: readonly Hash[];
  readonly body: EntryBody;
}

/** An entry together with its canonical bytes and their SHA-256 (the entry's identity). */
export interface HashedEntry {
  readonly entry: Entry;
  readonly bytes: Uint8Array;
  readonly hash: Hash;
}

/**
 * The author's signature over (folder, author, seq, entryHash). The hash chain makes it
 * cover every entry of the feed up to `seq`. `signature` is a binary OpenPGP detached
 * signature over `checkpointSigningBytes` (possibly wrapped by the host, see verifier).
 */
export interface Checkpoint {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  readonly seq: number;
  readonly entryHash: Hash;
  readonly signature: Uint8Array;
}

/** Where a feed stands: its last seq and the hash of the entry there (and its lamport). */
export interface FeedHead {
  readonly seq: number;
  readonly head: Hash;
}

/** What a node has of a folder: per author, how far its feed goes. */
export type VersionVector = ReadonlyMap<Fingerprint, FeedHead>;

/** A run of one author's feed, both ends inclusive. */
export interface SeqRange {
  readonly author: Fingerprint;
  readonly fromSeq: number;
  readonly toSeq: number;
}

/**
 * Proof that an author signed two different histories: two different entry hashes at one
 * (author, seq), each backed by a verified checkpoint (or one side already stored).
 */
export interface ForkEvidence {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  readonly seq: number;
  /** The two different entry hashes at `seq`, sorted. */
  readonly hashes: readonly [Hash, Hash];
  /** Encoded entries from `seq` up to the checkpoints, so the chains can be followed. */
  readonly entries: readonly Uint8Array[];
  /** Encoded verified checkpoints whose chains reach the two entries (see verifyForkEvidence). */
  readonly checkpoints: readonly Uint8Array[];
}

/** Checks an OpenPGP detached signature made by the key in `publicKeyArmored`. */
export interface SignatureVerifier {
  verify(publicKeyArmored: string, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** Makes a binary OpenPGP detached signature with the local identity (through the host). */
export interface Signer {
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Why the ACL refuses a write; `ok` when the author may write that path at that seq. */
export type AclRefusalReason = 'UNKNOWN_AUTHOR' | 'NOT_A_WRITER' | 'OUTSIDE_PATH_GRANT' | 'REVOKED';
export type WriteDecision = { readonly ok: true } | { readonly ok: false; readonly reason: AclRefusalReason; readonly detail: string };

/** What the validator needs from the manifest: nothing more than this question and the key. */
export interface WriteAuthority {
  /** The author's armored public key, or undefined if the manifest does not know them. */
  publicKeyOf(author: Fingerprint): string | undefined;
  mayWrite(author: Fingerprint, path: string, seq: number): WriteDecision;
}
