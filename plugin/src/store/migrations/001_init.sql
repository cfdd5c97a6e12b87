-- 001_init: the first schema. Hashes are 32-byte SHA-256 blobs; folders are interned to small
-- integers because every row of every big table names its folder.

-- Folder ids. Invariants: one row per folder id string; rows are never deleted or renumbered,
-- so an id cached in memory stays valid for the life of the file.
CREATE TABLE folders (
  id     INTEGER PRIMARY KEY,
  folder TEXT NOT NULL UNIQUE
);

-- Author fingerprints. Same invariants as folders; interned because every entry, head and
-- index row names its author, and a 40-character key makes every index page hold fewer rows.
CREATE TABLE authors (
  id     INTEGER PRIMARY KEY,
  author TEXT NOT NULL UNIQUE
);

-- The log: every stored entry of every feed. Invariants: entries are immutable; at most one
-- entry per (folder, author, seq) (a second one is a fork and goes to `forks`); unique by hash,
-- because the hash covers the encoding, which names folder, author and seq, so one hash is one
-- (folder, author, seq); `hash_key` is the hash's first 52 bits as an integer, the key of the
-- by-hash index below (a quarter the size of the full hash; lookups check the full hash).
-- `paths` is a JSON array of 1 or 2 paths; `parents` a JSON array of hex hashes.
-- Clustered by feed so a range of one author's seqs is one sequential read.
CREATE TABLE entries (
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  author_id INTEGER NOT NULL REFERENCES authors(id),
  seq       INTEGER NOT NULL,
  hash      BLOB    NOT NULL,
  hash_key  INTEGER NOT NULL,
  prev      BLOB,
  lamport   INTEGER NOT NULL,
  paths     TEXT    NOT NULL,
  parents   TEXT    NOT NULL,
  bytes     BLOB    NOT NULL,
  PRIMARY KEY (folder_id, author_id, seq)
) WITHOUT ROWID;

-- The by-hash index, in two levels. Hash keys are random, so one big index would have every
-- batch dirty pages all over it, and every commit write them to the WAL again (at 1M entries
-- that halved append throughput). New keys go to the small `entry_hashes_recent`, which stays
-- cheap to insert into at random; when it passes a threshold it is merged, in key order, into
-- `entry_hashes` and emptied, in the same transaction. Invariant: every stored entry has its
-- (hash_key, folder, author, seq) in at least one of the two; a lookup reads both.
CREATE TABLE entry_hashes (
  hash_key  INTEGER NOT NULL,
  folder_id INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (hash_key, folder_id, author_id, seq)
) WITHOUT ROWID;
CREATE TABLE entry_hashes_recent (
  hash_key  INTEGER NOT NULL,
  folder_id INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (hash_key, folder_id, author_id, seq)
) WITHOUT ROWID;

-- (folder, path, hash) such that some stored entry touching `path` names `hash` as a parent.
-- Invariants: only ever grows; rows may name entries not stored yet (a child arrived before
-- its parent), which is exactly what keeps such a parent from becoming a head when it arrives.
CREATE TABLE superseded (
  folder_id INTEGER NOT NULL,
  path      TEXT    NOT NULL,
  hash      BLOB    NOT NULL,
  PRIMARY KEY (folder_id, path, hash)
) WITHOUT ROWID;

-- Heads per path. Invariant (after every committed batch): (f, p, h) is here iff entry h is
-- stored, touches p, and (f, p, h) is not in `superseded`. Several heads of one path are a
-- conflict. author/seq/lamport are copied from the entry so a winner can be picked without it.
-- No foreign keys here or in `superseded`: they are derived from `entries` in the same transaction.
CREATE TABLE heads (
  folder_id INTEGER NOT NULL,
  path      TEXT    NOT NULL,
  hash      BLOB    NOT NULL,
  author_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  lamport   INTEGER NOT NULL,
  PRIMARY KEY (folder_id, path, hash)
) WITHOUT ROWID;

-- The version vector. Invariant: `seq` is the highest s such that entries 1..s of
-- (folder, author) are all stored, `head` the hash of the entry at s; no row means none stored.
CREATE TABLE feeds (
  folder_id INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  head      BLOB    NOT NULL,
  PRIMARY KEY (folder_id, author_id)
) WITHOUT ROWID;

-- Signed checkpoints. Invariants: one per (folder, author, seq), the first one stored wins
-- (a checkpoint naming another entry hash at that seq is fork evidence, reported via `forks`);
-- `entry_hash` is the hash of the entry at that seq, whose chain covers every earlier seq.
CREATE TABLE checkpoints (
  folder_id  INTEGER NOT NULL REFERENCES folders(id),
  author_id  INTEGER NOT NULL REFERENCES authors(id),
  seq        INTEGER NOT NULL,
  entry_hash BLOB    NOT NULL,
  signature  BLOB    NOT NULL,
  PRIMARY KEY (folder_id, author_id, seq)
) WITHOUT ROWID;

-- Manifest versions, including overruled concurrent edits. Invariants: unique by hash; several
-- rows may share (folder, version) when admins edited at once, and then at most one of them is
-- not overruled; `prev` is null only for genesis (version 1 chosen by the acl module).
CREATE TABLE manifests (
  hash      BLOB    PRIMARY KEY,
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  version   INTEGER NOT NULL,
  prev      BLOB,
  author    TEXT    NOT NULL,
  bytes     BLOB    NOT NULL,
  signature BLOB    NOT NULL,
  overruled INTEGER NOT NULL CHECK (overruled IN (0, 1))
);
CREATE INDEX manifests_by_folder ON manifests(folder_id, version);

-- Fork evidence. Invariants: hash_a <> hash_b, both entries claim (folder, author, seq);
-- rows are never deleted (evidence is kept until a user decides).
CREATE TABLE forks (
  folder_id      INTEGER NOT NULL REFERENCES folders(id),
  author         TEXT    NOT NULL,
  seq            INTEGER NOT NULL,
  hash_a         BLOB    NOT NULL,
  hash_b         BLOB    NOT NULL,
  bytes_a        BLOB    NOT NULL,
  bytes_b        BLOB    NOT NULL,
  detected_at_ms INTEGER NOT NULL,
  -- What proves it (the log's encoded entries and signed checkpoints), framed as
  -- [u32 big-endian length, bytes]...; NULL when none was given.
  proof_entries     BLOB,
  proof_checkpoints BLOB,
  PRIMARY KEY (folder_id, author, seq, hash_a, hash_b),
  CHECK (hash_a <> hash_b)
) WITHOUT ROWID;

-- The scanner's memory of this node's disk. Invariant: one row per (folder, path) it last saw;
-- it says nothing about the log (a path may be here before its entry is written).
CREATE TABLE local_files (
  folder_id    INTEGER NOT NULL REFERENCES folders(id),
  path         TEXT    NOT NULL,
  size         INTEGER NOT NULL,
  mtime_ms     REAL    NOT NULL,
  inode        INTEGER NOT NULL,
  mode         INTEGER NOT NULL,
  content_hash TEXT,
  type         TEXT    NOT NULL CHECK (type IN ('file', 'dir', 'symlink')),
  PRIMARY KEY (folder_id, path)
) WITHOUT ROWID;

-- Where blocks can be read locally. Invariant: a row is a claim to check, not a promise: the
-- reader re-hashes what it reads, because the file may have changed since it was indexed.
CREATE TABLE block_locations (
  hash      BLOB    NOT NULL,
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  path      TEXT    NOT NULL,
  "offset"  INTEGER NOT NULL,
  size      INTEGER NOT NULL,
  PRIMARY KEY (hash, folder_id, path, "offset")
) WITHOUT ROWID;
CREATE INDEX block_locations_by_file ON block_locations(folder_id, path);

-- What each peer last said it has. Invariant: one seq per (folder, peer, author); a peer's
-- vector is replaced whole, never merged, so an author it no longer has disappears.
CREATE TABLE peer_vectors (
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  peer      TEXT    NOT NULL,
  author    TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  PRIMARY KEY (folder_id, peer, author)
) WITHOUT ROWID;
