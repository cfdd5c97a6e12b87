/**
 * Canonical binary encoding of entries and checkpoints (layout in PROTOCOL.md). One content
 * has exactly one encoding, so its SHA-256 is the same on every node; decoders refuse any
 * other byte string with a typed DecodeError.
 */
import { hash as oneShotHash } from 'node:crypto';
import { Reader, Writer, fingerprintAt, FINGERPRINT_BYTES, FOLDER_BYTES, HASH_BYTES, compareStrings } from './codec';
import { DecodeError, LogError } from './errors';
import type { BlockRef, Checkpoint, Entry, EntryBody, FileMeta, FileType, Fingerprint, Hash, HashedEntry } from './types';

export const FORMAT_VERSION = 1;
export const KIND_ENTRY = 0x01;
export const KIND_CHECKPOINT = 0x02;

/** Room for paths the validator then refuses as too long, with a clear reason. */
export const MAX_PATH_FIELD_BYTES = 16 * 1024;
export const MAX_LINK_TARGET_BYTES = 4096;
export const MAX_PARENTS = 1024;
export const MAX_BLOCKS = 1 << 20;
export const MAX_BLOCK_SIZE = 2 ** 32;
export const MAX_MODE = 0o7777;
export const MAX_SIGNATURE_BYTES = 16 * 1024;

export const CHECKPOINT_SIGNING_PREFIX = Buffer.from('KINFOLDER-CHECKPOINT-V1\0', 'ascii');

const OPS = { put: 1, delete: 2, move: 3 } as const;
const TYPES: Record<FileType, number> = { file: 1, dir: 2, symlink: 3 };
const TYPE_NAMES: (FileType | undefined)[] = [undefined, 'file', 'dir', 'symlink'];

/** SHA-256 as lower-case hex. */
export const sha256Hex = (bytes: Uint8Array): Hash => oneShotHash('sha256', bytes, 'hex');

const CONTENT_HASH_PREFIX = Buffer.from('KINFOLDER-CONTENT-V1\0', 'utf8');

/**
 * A file's content hash: SHA-256 over a fixed prefix and its block hashes in order. Every
 * block is verified on its own anyway, so this identifies the content as well as a hash of
 * the whole file would, and it costs the scanner one pass of SHA-256 over the bytes instead
 * of two (the scan's limit on this machine).
 */
export function contentHashOf(blocks: readonly BlockRef[]): Hash {
  const buf = Buffer.allocUnsafe(CONTENT_HASH_PREFIX.length + blocks.length * 32);
  CONTENT_HASH_PREFIX.copy(buf, 0);
  let o = CONTENT_HASH_PREFIX.length;
  for (const b of blocks) o += buf.write(b.hash, o, 'hex');
  return sha256Hex(buf.subarray(0, o));
}

// One scratch writer per module: encoding is synchronous, so it is never shared mid-use.
const scratch = new Writer(64 * 1024);

function invalid(message: string): never {
  throw new LogError('ENCODE_INVALID', message);
}

function writeMeta(w: Writer, m: FileMeta): void {
  const t = TYPES[m.type];
  if (t === undefined) invalid(`unknown file type ${String(m.type)}`);
  if (!Number.isSafeInteger(m.mode) || m.mode < 0 || m.mode > MAX_MODE) invalid(`mode ${m.mode} not in [0, 0o7777]`);
  if (m.type === 'file') {
    if (m.linkTarget !== undefined) invalid('only symlinks have a link target');
  } else {
    if (m.size !== 0 || m.blocks.length !== 0) invalid(`a ${m.type} has size 0 and no blocks`);
    if ((m.type === 'symlink') !== (m.linkTarget !== undefined)) invalid('a symlink, and only a symlink, has a link target');
  }
  if (m.blocks.length > MAX_BLOCKS) invalid(`more than ${MAX_BLOCKS} blocks`);
  w.u8(t).varint(m.size, 'size').varint(m.mode, 'mode').varint(m.mtimeMs, 'mtimeMs').hash(m.contentHash, 'contentHash');
  w.varint(m.blocks.length, 'block count');
  let sum = 0;
  for (let i = 0; i < m.blocks.length; i++) {
    const b = m.blocks[i];
    if (!(b.size >= 1 && b.size <= MAX_BLOCK_SIZE)) invalid(`block size ${b.size} not in [1, 2^32]`);
    w.hash(b.hash, 'block hash').varint(b.size, 'block size');
    sum += b.size;
  }
  if (sum !== m.size) invalid(`blocks add up to ${sum}, size is ${m.size}`);
  if (m.type === 'symlink') w.string(m.linkTarget as string, MAX_LINK_TARGET_BYTES, 'linkTarget');
}

function writeEntry(w: Writer, e: Entry): void {
  if (!Number.isSafeInteger(e.seq) || e.seq < 1) invalid(`seq ${e.seq} must be >= 1`);
  if ((e.seq === 1) !== (e.prev === null)) invalid('prev is null exactly when seq is 1');
  if (!Number.isSafeInteger(e.lamport) || e.lamport < 1) invalid(`lamport ${e.lamport} must be >= 1`);
  if (e.parents.length > MAX_PARENTS) invalid(`more than ${MAX_PARENTS} parents`);
  w.u8(KIND_ENTRY).u8(FORMAT_VERSION).folder(e.folder).fingerprint(e.author, 'author').varint(e.seq, 'seq');
  if (e.prev !== null) w.hash(e.prev, 'prev');
  w.varint(e.lamport, 'lamport').varint(e.wallTimeMs, 'wallTimeMs').varint(e.parents.length, 'parent count');
  for (let i = 0; i < e.parents.length; i++) {
    if (i > 0 && !(e.parents[i - 1] < e.parents[i])) invalid('parents must be sorted and unique');
    w.hash(e.parents[i], 'parent');
  }
  const b = e.body;
  switch (b.op) {
    case 'put':
      w.u8(OPS.put).string(b.path, MAX_PATH_FIELD_BYTES, 'path');
      writeMeta(w, b.meta);
      break;
    case 'delete':
      w.u8(OPS.delete).string(b.path, MAX_PATH_FIELD_BYTES, 'path');
      break;
    case 'move':
      w.u8(OPS.move).string(b.from, MAX_PATH_FIELD_BYTES, 'from').string(b.to, MAX_PATH_FIELD_BYTES, 'to');
      writeMeta(w, b.meta);
      break;
    default:
      invalid(`unknown op ${String((b as { op: unknown }).op)}`);
  }
}

/** The canonical bytes of an entry. Throws LogError ENCODE_INVALID on what no decoder would accept. */
export function encodeEntry(e: Entry): Buffer {
  writeEntry(scratch.reset(), e);
  return scratch.finish();
}

/** Encodes and hashes: the entry's identity. */
export function hashEntry(e: Entry): HashedEntry {
  writeEntry(scratch.reset(), e);
  const hash = sha256Hex(scratch.view());
  return { entry: e, bytes: scratch.finish(), hash };
}

function header(r: Reader, kind: number, what: string): void {
  const k = r.u8('kind');
  if (k !== kind) throw new DecodeError('DECODE_BAD_KIND', `expected ${what} (kind ${kind}), got kind ${k}`);
  const v = r.u8('format version');
  if (v !== FORMAT_VERSION) throw new DecodeError('DECODE_BAD_FORMAT_VERSION', `${what} format version ${v} is not ${FORMAT_VERSION}`);
}

/**
 * Reads a file's meta, or with `build` false only checks it: the same checks, without the
 * hex strings and block objects (see decodeHashedEntry).
 */
function readMeta(r: Reader, build: true): FileMeta;
function readMeta(r: Reader, build: boolean): FileMeta | null;
function readMeta(r: Reader, build: boolean): FileMeta | null {
  const t = r.u8('file type');
  const type = TYPE_NAMES[t];
  if (type === undefined) throw new DecodeError('DECODE_BAD_VALUE', `file type ${t}`);
  const size = r.varint('size');
  const mode = r.int('mode', 0, MAX_MODE);
  const mtimeMs = r.varint('mtimeMs');
  let contentHash = '';
  if (build) contentHash = r.hash('contentHash');
  else r.skip(HASH_BYTES, 'contentHash');
  const n = r.int('block count', 0, MAX_BLOCKS);
  // Each block needs at least 33 bytes: refuse impossible counts before allocating.
  if (n * (HASH_BYTES + 1) > r.remaining) throw new DecodeError('DECODE_TRUNCATED', `block count ${n} exceeds the bytes left`);
  if (type !== 'file' && n !== 0) throw new DecodeError('DECODE_BAD_VALUE', `a ${type} has no blocks`);
  if (type !== 'file' && size !== 0) throw new DecodeError('DECODE_BAD_VALUE', `a ${type} has size 0`);
  const blocks: BlockRef[] = build ? new Array(n) : [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (build) {
      const hash = r.hash('block hash');
      const bsize = r.int('block size', 1, MAX_BLOCK_SIZE);
      blocks[i] = { hash, size: bsize };
      sum += bsize;
    } else {
      r.skip(HASH_BYTES, 'block hash');
      sum += r.int('block size', 1, MAX_BLOCK_SIZE);
    }
  }
  if (type === 'file' && sum !== size) throw new DecodeError('DECODE_BAD_VALUE', `blocks add up to ${sum}, size is ${size}`);
  if (type === 'symlink') {
    const linkTarget = r.string(MAX_LINK_TARGET_BYTES, 'linkTarget');
    return build ? { type, size, mode, mtimeMs, contentHash, blocks, linkTarget } : null;
  }
  return build ? { type, size, mode, mtimeMs, contentHash, blocks } : null;
}

/** The meta of a lazily decoded body, built on first use from bytes readMeta already checked. */
function metaAt(bytes: Uint8Array, at: number): FileMeta {
  const r = new Reader(bytes);
  r.pos = at;
  return readMeta(r, true);
}

// Bodies of decodeHashedEntry: `meta` is a getter on the prototype, so creating one costs what
// a plain object does (an own accessor, in a literal or by defineProperty, costs ~1 us each).
// Unlike a plain body, a spread or structuredClone of one leaves `meta` out.
abstract class LazyMeta {
  #meta: FileMeta | undefined;
  readonly #bytes: Uint8Array;
  readonly #at: number;
  constructor(bytes: Uint8Array, at: number) {
    this.#bytes = bytes;
    this.#at = at;
  }
  get meta(): FileMeta {
    return (this.#meta ??= metaAt(this.#bytes, this.#at));
  }
}

class LazyPut extends LazyMeta {
  readonly op = 'put';
  constructor(
    readonly path: string,
    bytes: Uint8Array,
    at: number,
  ) {
    super(bytes, at);
  }
}

class LazyMove extends LazyMeta {
  readonly op = 'move';
  constructor(
    readonly from: string,
    readonly to: string,
    bytes: Uint8Array,
    at: number,
  ) {
    super(bytes, at);
  }
}

/** The parents of every entry that names none: one frozen list instead of an empty array per entry. */
const NO_PARENTS: readonly Hash[] = Object.freeze([]);

/**
 * The hash of the entry decodeHashedEntry decoded last: the next one's prev, when a feed is
 * decoded in order (decoding is synchronous, so it is never seen half-updated).
 */
let lastDecodedHash = '';

/** `lazyMeta`: a put's or move's meta is checked now and built on first use (see decodeHashedEntry). */
function readEntry(r: Reader, bytes: Uint8Array, lazyMeta: boolean): Entry {
  header(r, KIND_ENTRY, 'entry');
  const folder = r.folder();
  const author = r.fingerprint('author');
  const seq = r.int('seq', 1);
  const prev = seq === 1 ? null : r.hashLikely(lastDecodedHash, 'prev');
  const lamport = r.int('lamport', 1);
  const wallTimeMs = r.varint('wallTimeMs');
  const np = r.int('parent count', 0, MAX_PARENTS);
  if (np * HASH_BYTES > r.remaining) throw new DecodeError('DECODE_TRUNCATED', `parent count ${np} exceeds the bytes left`);
  const parents: Hash[] = np === 0 ? (NO_PARENTS as Hash[]) : new Array(np);
  for (let i = 0; i < np; i++) {
    parents[i] = r.hash('parent');
    if (i > 0) {
      const c = compareStrings(parents[i - 1], parents[i]);
      if (c === 0) throw new DecodeError('DECODE_DUPLICATE', 'parents repeat a hash');
      if (c > 0) throw new DecodeError('DECODE_UNSORTED', 'parents are not sorted');
    }
  }
  const op = r.u8('op');
  let body: EntryBody;
  if (op === OPS.put) {
    const path = r.string(MAX_PATH_FIELD_BYTES, 'path');
    if (lazyMeta) {
      body = new LazyPut(path, bytes, r.pos);
      readMeta(r, false);
    } else body = { op: 'put', path, meta: readMeta(r, true) };
  } else if (op === OPS.delete) {
    body = { op: 'delete', path: r.string(MAX_PATH_FIELD_BYTES, 'path') };
  } else if (op === OPS.move) {
    const from = r.string(MAX_PATH_FIELD_BYTES, 'from');
    const to = r.string(MAX_PATH_FIELD_BYTES, 'to');
    if (lazyMeta) {
      body = new LazyMove(from, to, bytes, r.pos);
      readMeta(r, false);
    } else body = { op: 'move', from, to, meta: readMeta(r, true) };
  } else {
    throw new DecodeError('DECODE_BAD_VALUE', `op ${op}`);
  }
  r.end('entry');
  return { folder, author, seq, prev, lamport, wallTimeMs, parents, body };
}

/** Decodes canonical entry bytes; throws DecodeError on anything else. */
export function decodeEntry(bytes: Uint8Array): Entry {
  return readEntry(new Reader(bytes), bytes, false);
}

/**
 * Decodes and hashes; the input is canonical once decoded, so its hash is the entry's. All of
 * it is checked now, but a put's or move's meta is built from `bytes` on first use: validation
 * and the store need paths, clocks and links, and the content hash and block list (most of an
 * entry's hex) are read only when the file is applied. The entry keeps `bytes`, as the
 * HashedEntry does; they must not change.
 */
export function decodeHashedEntry(bytes: Uint8Array): HashedEntry {
  const entry = readEntry(entryReader.reset(bytes), bytes, true);
  const hash = sha256Hex(bytes);
  lastDecodedHash = hash;
  return { entry, bytes, hash };
}

// Reused by decodeHashedEntry (synchronous): a Reader per entry was garbage of its own.
const entryReader = new Reader(Buffer.alloc(0));

function writeCheckpointFields(w: Writer, c: Omit<Checkpoint, 'signature'>): void {
  if (!Number.isSafeInteger(c.seq) || c.seq < 1) invalid(`seq ${c.seq} must be >= 1`);
  w.folder(c.folder).fingerprint(c.author, 'author').varint(c.seq, 'seq').hash(c.entryHash, 'entryHash');
}

/** What the author signs: a fixed prefix, then folder, author, seq and entry hash. */
export function checkpointSigningBytes(c: Omit<Checkpoint, 'signature'>): Buffer {
  const w = scratch.reset().raw(CHECKPOINT_SIGNING_PREFIX);
  writeCheckpointFields(w, c);
  return w.finish();
}

export function encodeCheckpoint(c: Checkpoint): Buffer {
  const w = scratch.reset().u8(KIND_CHECKPOINT).u8(FORMAT_VERSION);
  writeCheckpointFields(w, c);
  w.bytes(c.signature, MAX_SIGNATURE_BYTES, 'signature');
  return w.finish();
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const r = new Reader(bytes);
  header(r, KIND_CHECKPOINT, 'checkpoint');
  const folder = r.folder();
  const author = r.fingerprint('author');
  const seq = r.int('seq', 1);
  const entryHash = r.hash('entryHash');
  const signature = r.bytes(MAX_SIGNATURE_BYTES, 'signature');
  r.end('checkpoint');
  return { folder, author, seq, entryHash, signature: new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength) };
}

// Entries and checkpoints both begin: kind, format version, folder, author, seq.
const AUTHOR_AT = 2 + FOLDER_BYTES;
const SEQ_AT = AUTHOR_AT + FINGERPRINT_BYTES;

/**
 * The author an encoded entry or checkpoint claims, without decoding the rest ('' if the bytes
 * are too short): enough to sort a peer's input by feed, which the decoder checks again.
 */
export function peekAuthor(bytes: Uint8Array): Fingerprint {
  if (bytes.length < SEQ_AT) return '';
  return fingerprintAt(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), AUTHOR_AT);
}

/** Whether two encoded entries or checkpoints claim the same author (false if either is too short to say). */
export function sameAuthorBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < SEQ_AT || b.length < SEQ_AT) return false;
  for (let i = AUTHOR_AT; i < SEQ_AT; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The seq an encoded entry or checkpoint claims, without decoding the rest (undefined if it
 * cannot be read); a hint the decoder checks again, so a varint the decoder would refuse as
 * not minimal is read all the same.
 */
export function peekSeq(bytes: Uint8Array): number | undefined {
  let seq = 0;
  let mul = 1;
  for (let i = SEQ_AT; i < bytes.length && i < SEQ_AT + 8; i++) {
    seq += (bytes[i] & 0x7f) * mul;
    if (bytes[i] < 0x80) return seq <= Number.MAX_SAFE_INTEGER ? seq : undefined;
    mul *= 0x80;
  }
  return undefined;
}

/** Sorted, de-duplicated parents, as the encoding wants them. */
export function canonicalParents(hashes: readonly Hash[]): Hash[] {
  if (hashes.length <= 1) return hashes.slice(); // the usual case: nothing or one head
  return [...new Set(hashes)].sort(compareStrings);
}
