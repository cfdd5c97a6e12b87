-- 002_local_base: what each local file is based on. For every path of a folder on this node,
-- the entry hashes that the bytes on disk correspond to: the winner apply last wrote there, or
-- the entry the scanner last announced for it. A local edit names these as its parents, never
-- the path's current heads, so an edit made while a remote version arrived becomes a conflict
-- instead of silently superseding the version it never saw.
-- Invariants: one row per (folder, path); `hashes` is a JSON array of lower-case hex entry
-- hashes (usually one); a row is only a hint about the local disk, never part of the log.
CREATE TABLE local_base (
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  path      TEXT    NOT NULL,
  hashes    TEXT    NOT NULL,
  PRIMARY KEY (folder_id, path)
) WITHOUT ROWID;
