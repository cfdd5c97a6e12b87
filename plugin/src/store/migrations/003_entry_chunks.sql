-- 003_entry_chunks: the log's entries in chunks, one row per run of up to a few hundred
-- contiguous seqs of one feed, instead of one row per entry. A row per entry cost a B-tree
-- insert, its JSON fields and ~490 bytes of pages per entry, and was most of a batch's sqlite
-- time (measured ~6 µs per entry of 14 in a 100k-entry catch-up); a chunk is one insert.
--
-- Invariants: the chunks of one feed never overlap, so (folder, author, seq) is in at most one
-- chunk (the one with the greatest first_seq <= seq); chunks are immutable; every entry in a
-- chunk is stored (seqs first_seq..last_seq, no holes), and a run of seqs may be split across
-- several adjacent chunks. `hashes` is the entries' SHA-256 hashes, 32 bytes each, in seq order;
-- `bytes` their canonical encodings concatenated; `meta` a JSON array with one element per
-- entry, [lamport, paths, parents, end] or [lamport, paths, parents, end, prev]: `end` is the
-- offset in `bytes` just after the entry (it starts where the previous one ends, or at 0);
-- `prev` (lower-case hex, or null) is present on the first entry of a chunk and on any entry
-- whose prev is not the hash of the entry before it in the chunk. The by-hash index still names
-- (folder, author, seq).
CREATE TABLE entry_chunks (
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  author_id INTEGER NOT NULL REFERENCES authors(id),
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  hashes    BLOB    NOT NULL,
  meta      TEXT    NOT NULL,
  bytes     BLOB    NOT NULL,
  PRIMARY KEY (folder_id, author_id, first_seq),
  CHECK (last_seq >= first_seq AND length(hashes) = 32 * (last_seq - first_seq + 1))
);

-- Existing entries become chunks of one entry each: correct, if not as compact as new chunks.
INSERT INTO entry_chunks(folder_id, author_id, first_seq, last_seq, hashes, meta, bytes)
SELECT folder_id, author_id, seq, seq, hash,
       json_array(json_array(lamport, json(paths), json(parents), length(bytes), CASE WHEN prev IS NULL THEN NULL ELSE lower(hex(prev)) END)),
       bytes
FROM entries ORDER BY folder_id, author_id, seq;

DROP TABLE entries;
