/** Entry chunks (see 003_entry_chunks.sql): contiguous entries of one feed as one row's columns, and back. */
import { writeHash } from './codec';
import type { EntryRecord } from './records';

/**
 * Entries per chunk at most. Small enough that reading one entry by hash (the whole chunk
 * comes back) stays cheap, large enough that per-chunk work is noise; 250 divides the page
 * sizes streams use (1,000 and 2,000), so pages rarely re-read a chunk they share.
 */
export const MAX_CHUNK_ENTRIES = 250;

/** A chunk as stored. */
export interface ChunkRow {
  first_seq: number;
  last_seq: number;
  hashes: Buffer;
  meta: string;
  bytes: Buffer;
}

/** A chunk ready to insert, with the by-hash index keys of its entries. */
export interface EncodedChunk {
  firstSeq: number;
  lastSeq: number;
  hashes: Buffer;
  meta: Buffer;
  bytes: Buffer;
  /** Each entry's hash key (hashKeyAt), in seq order, comma-separated: the inside of a JSON array. */
  keys: Buffer;
  /** Some entry names parents. */
  withParents: boolean;
}

/** The first 52 bits of a hash, as a safe integer: the key of the by-hash index (same as parseInt of 13 hex digits). */
export function hashKeyAt(hashes: Buffer, offset: number): number {
  return hashes.readUIntBE(offset, 6) * 16 + (hashes[offset + 6] >> 4);
}

/**
 * `entries`: one feed's, seqs contiguous and ascending, checked by the caller (but for each
 * entry's hash, checked here as it is written). Meta is the JSON text of its MetaItems,
 * written byte by byte into one buffer: building it as a string cost more (the pieces, then
 * flattening and encoding the whole).
 */
export function encodeChunk(entries: readonly EntryRecord[]): EncodedChunk {
  const n = entries.length;
  const hashes = Buffer.allocUnsafe(32 * n);
  let size = 0;
  for (let i = 0; i < n; i++) size += entries[i].bytes.length;
  const bytes = Buffer.allocUnsafe(size);
  const meta = metaWriter.reset();
  meta.byte(0x5b); // [
  const keys = keysWriter.reset();
  let end = 0;
  let previous: string | null = null;
  let withParents = false;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    writeHash(e.hash, hashes, 32 * i, 'entry.hash');
    // TypedArray#set: Buffer#copy goes through JS argument checks per call.
    bytes.set(e.bytes, end);
    end += e.bytes.length;
    if (i > 0) {
      meta.byte(0x2c); // ,
      keys.byte(0x2c);
    }
    meta.byte(0x5b).int(e.lamport).byte(0x2c).strings(e.paths).byte(0x2c);
    if (e.parents.length > 0) withParents = true;
    meta.strings(e.parents).byte(0x2c).int(end);
    if (i === 0 || e.prev !== previous) {
      meta.byte(0x2c);
      if (e.prev === null) meta.ascii('null');
      else meta.string(e.prev);
    }
    meta.byte(0x5d); // ]
    keys.int(hashKeyAt(hashes, 32 * i));
    previous = e.hash;
  }
  meta.byte(0x5d);
  return { firstSeq: entries[0].seq, lastSeq: entries[n - 1].seq, hashes, meta: meta.finish(), bytes, keys: keys.finish(), withParents };
}

/** JSON text of numbers and strings, as UTF-8 in one growing buffer. */
class JsonWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b;
    return this;
  }

  ascii(s: string): this {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  /** A non-negative safe integer (lamport, offset, hash key): its digits, as JSON.stringify writes them. */
  int(v: number): this {
    // Hash keys are 52-bit: written as two int32 halves (number to string costs ~3 times more).
    if (v >= 1e9) {
      const hi = Math.floor(v / 1e9);
      this.int(hi);
      this.ensure(9);
      let lo = v - hi * 1e9;
      for (let i = this.pos + 8; i >= this.pos; i--, lo = (lo / 10) | 0) this.buf[i] = 0x30 + (lo % 10);
      this.pos += 9;
      return this;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
    this.ensure(digits);
    for (let i = this.pos + digits - 1, x = v; i >= this.pos; i--, x = (x / 10) | 0) this.buf[i] = 0x30 + (x % 10);
    this.pos += digits;
    return this;
  }

  /** A JSON string: printable ASCII without `"` and `\` (paths, hex) byte by byte, anything else as JSON.stringify has it. */
  string(s: string): this {
    this.ensure(s.length + 2);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.pos = start;
        const json = JSON.stringify(s);
        this.ensure(3 * json.length);
        this.pos += this.buf.write(json, this.pos, 'utf8');
        return this;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
    return this;
  }

  strings(list: readonly string[]): this {
    this.byte(0x5b);
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.byte(0x2c);
      this.string(list[i]);
    }
    return this.byte(0x5d);
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

// Encoding is synchronous: one writer of each serves every chunk.
const metaWriter = new JsonWriter();
const keysWriter = new JsonWriter();

/** An encoded chunk as the row it becomes. */
export function encodedRow(c: EncodedChunk): ChunkRow {
  return { first_seq: c.firstSeq, last_seq: c.lastSeq, hashes: c.hashes, meta: c.meta.toString('utf8'), bytes: c.bytes };
}

type MetaItem = [number, string[], string[], number, (string | null)?];

/**
 * The entries of a chunk with fromSeq ≤ seq ≤ toSeq, in seq order. Their bytes are views into
 * the row's blob (no copy): a caller that keeps a few entries of many chunks should copy them.
 */
export function decodeChunk(folder: string, author: string, row: ChunkRow, fromSeq: number, toSeq: number): EntryRecord[] {
  const meta = JSON.parse(row.meta) as MetaItem[];
  const first = Math.max(fromSeq, row.first_seq) - row.first_seq;
  const last = Math.min(toSeq, row.last_seq) - row.first_seq;
  const out: EntryRecord[] = [];
  for (let i = first; i <= last; i++) out.push(entryAt(folder, author, row, meta, i));
  return out;
}

/** The entry at index `i` of a chunk whose meta is parsed. */
export function entryAt(folder: string, author: string, row: ChunkRow, meta: readonly MetaItem[], i: number): EntryRecord {
  const m = meta[i];
  const start = i === 0 ? 0 : meta[i - 1][3];
  const prev = m.length > 4 ? (m[4] as string | null) : row.hashes.toString('hex', 32 * (i - 1), 32 * i);
  return {
    folder,
    author,
    seq: row.first_seq + i,
    hash: row.hashes.toString('hex', 32 * i, 32 * i + 32),
    prev,
    lamport: m[0],
    paths: m[1],
    parents: m[2],
    bytes: row.bytes.subarray(start, m[3]),
  };
}

/** Index in the chunk of the entry with this hash at `seq`, or -1. */
export function indexOf(row: ChunkRow, seq: number, hash: Buffer): number {
  const i = seq - row.first_seq;
  if (i < 0 || seq > row.last_seq) return -1;
  return row.hashes.compare(hash, 0, 32, 32 * i, 32 * i + 32) === 0 ? i : -1;
}
