-- 004_refused_entries: entries refused for good under the current manifest, by hash. Another
-- feed's entry may name one as a parent; without this it waits for that parent forever once a
-- restart has emptied the replica's memory of refusals (the parent never comes: every node
-- refuses it). Invariants: at most one row per (folder, hash); `author` is the feed the entry
-- claimed (upper-case hex fingerprint); rows are a cache of verdicts, not part of the log: the
-- replica forgets an author's rows when a manifest change may let their entries in, and the
-- oldest rows (lowest rowid) go first when a folder holds too many.
CREATE TABLE refused_entries (
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  hash      BLOB    NOT NULL,
  author    TEXT    NOT NULL,
  UNIQUE (folder_id, hash)
);
CREATE INDEX refused_entries_by_author ON refused_entries(folder_id, author);
