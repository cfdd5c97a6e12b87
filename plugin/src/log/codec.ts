/**
 * Byte-level primitives of the canonical encoding: unsigned LEB128 varints (minimal form,
 * at most 2^53 - 1), fixed-width hex fields, length-prefixed UTF-8. The writer refuses what
 * the reader would refuse, so anything encoded decodes back to the same bytes.
 */
import { isUtf8 } from 'node:buffer';
import { DecodeError, LogError } from './errors';

const HASH_RE = /^[0-9a-f]{64}$/;
const FINGERPRINT_RE = /^[0-9A-F]{40}$/;
const FOLDER_RE = /^[0-9a-f]{32}$/;

export const HASH_BYTES = 32;
export const FINGERPRINT_BYTES = 20;
export const FOLDER_BYTES = 16;

export const isHash = (s: unknown): s is string => typeof s === 'string' && HASH_RE.test(s);
export const isFingerprint = (s: unknown): s is string => typeof s === 'string' && FINGERPRINT_RE.test(s);
export const isFolderId = (s: unknown): s is string => typeof s === 'string' && FOLDER_RE.test(s);

/** No lone surrogates (ES2024 `isWellFormed`, present in Node 20 but not in this lib target). */
export const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function hexTable(digits: string): Int8Array {
  const t = new Int8Array(65536).fill(-1); // indexed by any UTF-16 code unit
  for (let i = 0; i < 16; i++) t[digits.charCodeAt(i)] = i;
  return t;
}
const LOWER_HEX = hexTable('0123456789abcdef');
const UPPER_HEX = hexTable('0123456789ABCDEF');

function invalid(message: string): never {
  throw new LogError('ENCODE_INVALID', message);
}

/** Bytes up to which a byte loop copies faster than a native copy that allocates a view. */
const SMALL_COPY = 1024;

/** Appends canonical fields into one growing buffer; `finish()` returns a copy of the bytes. */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  varint(v: number, what: string): this {
    if (!Number.isSafeInteger(v) || v < 0) invalid(`${what} must be a non-negative safe integer, got ${v}`);
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    if (v < 0x80000000) {
      // Bit operations are exact below 2^31 and much cheaper than % and / on doubles.
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      // Times in ms and sizes: split at 2^28, four 7-bit groups from the low part, then the rest.
      let hi = Math.floor(v / 0x10000000);
      let lo = v - hi * 0x10000000;
      for (let i = 0; i < 4; i++) {
        buf[pos++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      while (hi >= 0x80) {
        buf[pos++] = (hi & 0x7f) | 0x80;
        hi >>>= 7;
      }
      buf[pos++] = hi;
    }
    this.pos = pos;
    return this;
  }

  /** Checks and writes in one pass: a regex plus Buffer.write costs twice as much here. */
  private hex(s: string, bytes: number, table: Int8Array, what: string, kind: string): this {
    if (typeof s !== 'string' || s.length !== bytes * 2) invalid(`${what} must be ${bytes * 2} ${kind} hex characters`);
    this.ensure(bytes);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i += 2) {
      const hi = table[s.charCodeAt(i)];
      const lo = table[s.charCodeAt(i + 1)];
      if ((hi | lo) < 0) invalid(`${what} must be ${bytes * 2} ${kind} hex characters`);
      buf[pos++] = (hi << 4) | lo;
    }
    this.pos = pos;
    return this;
  }

  hash(s: string, what: string): this {
    return this.hex(s, HASH_BYTES, LOWER_HEX, what, 'lower-case');
  }

  // A feed's entries repeat one folder and one author: remember the last of each as bytes.
  private lastFpr = '';
  private lastFolder = '';
  private readonly remembered = Buffer.alloc(FINGERPRINT_BYTES + FOLDER_BYTES);

  private recall(from: number, n: number): this {
    this.ensure(n);
    // A byte loop: Buffer#copy of part of a buffer allocates a view of it first, per call.
    const buf = this.buf;
    const known = this.remembered;
    for (let i = 0; i < n; i++) buf[this.pos + i] = known[from + i];
    this.pos += n;
    return this;
  }

  fingerprint(s: string, what: string): this {
    if (s === this.lastFpr) return this.recall(0, FINGERPRINT_BYTES);
    this.hex(s, FINGERPRINT_BYTES, UPPER_HEX, what, 'upper-case');
    this.buf.copy(this.remembered, 0, this.pos - FINGERPRINT_BYTES, this.pos);
    this.lastFpr = s;
    return this;
  }

  folder(s: string): this {
    if (s === this.lastFolder) return this.recall(FINGERPRINT_BYTES, FOLDER_BYTES);
    this.hex(s, FOLDER_BYTES, LOWER_HEX, 'folder', 'lower-case');
    this.buf.copy(this.remembered, FINGERPRINT_BYTES, this.pos - FOLDER_BYTES, this.pos);
    this.lastFolder = s;
    return this;
  }

  /** Length-prefixed UTF-8; refuses lone surrogates, which would not survive a round trip. */
  string(s: string, maxBytes: number, what: string): this {
    if (typeof s !== 'string') invalid(`${what} must be a string`);
    // Short ASCII (most paths) is copied byte by byte; anything else goes through the UTF-8 encoder.
    if (s.length < 0x80) {
      let ascii = true;
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
      if (ascii) {
        if (s.length > maxBytes) invalid(`${what} is ${s.length} bytes, more than ${maxBytes}`);
        this.ensure(1 + s.length);
        const buf = this.buf;
        let pos = this.pos;
        buf[pos++] = s.length;
        for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
        this.pos = pos;
        return this;
      }
    }
    if (!isWellFormed(s)) invalid(`${what} must be a well-formed string`);
    const len = Buffer.byteLength(s, 'utf8');
    if (len > maxBytes) invalid(`${what} is ${len} bytes, more than ${maxBytes}`);
    this.varint(len, what);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    return this;
  }

  bytes(b: Uint8Array, maxBytes: number, what: string): this {
    if (!(b instanceof Uint8Array)) invalid(`${what} must be bytes`);
    if (b.length > maxBytes) invalid(`${what} is ${b.length} bytes, more than ${maxBytes}`);
    this.varint(b.length, what);
    this.raw(b);
    return this;
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A view of the bytes so far, valid until the next write (hash it without copying). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  finish(): Buffer {
    const n = this.pos;
    const out = Buffer.allocUnsafe(n);
    // Entries are a few hundred bytes: a byte loop is cheaper than Buffer#copy, which allocates a
    // view of the part it copies (a young object per entry, and the GC's work with it).
    if (n > SMALL_COPY) this.buf.copy(out, 0, 0, n);
    else for (let i = 0, buf = this.buf; i < n; i++) out[i] = buf[i];
    return out;
  }
}

// Buffer#toString(encoding, ...) dispatches on the encoding and bounds-checks before the native
// slice; for a 32-byte hash or a path that costs as much as the conversion.
function nativeSlice(encoding: 'hex' | 'latin1'): (buf: Buffer, start: number, end: number) => string {
  const native = (Buffer.prototype as unknown as Record<string, ((start: number, end: number) => string) | undefined>)[`${encoding}Slice`];
  return typeof native === 'function' ? (buf, start, end) => native.call(buf, start, end) : (buf, start, end) => buf.toString(encoding, start, end);
}
const hexSlice = nativeSlice('hex');
const latin1Slice = nativeSlice('latin1');

// A feed's entries repeat one folder and one author: the decoder keeps the last of each, as
// bytes and as text, and compares bytes instead of converting them again (shared by every
// Reader; decoding is synchronous, so it is never seen half-updated).
interface Remembered {
  bytes: Buffer;
  text: string;
}
const lastFpr: Remembered = { bytes: Buffer.alloc(0), text: '' };
const lastFolder: Remembered = { bytes: Buffer.alloc(0), text: '' };

function sameBytes(buf: Buffer, pos: number, known: Buffer): boolean {
  const n = known.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (buf[pos + i] !== known[i]) return false;
  return true;
}

function remember(r: Remembered, buf: Buffer, pos: number, n: number, upper: boolean): void {
  const text = hexSlice(buf, pos, pos + n);
  r.text = upper ? text.toUpperCase() : text;
  r.bytes = Buffer.from(buf.subarray(pos, pos + n));
}

/** The fingerprint whose 20 bytes start at `pos` (the caller checked they are there), as upper-case hex. */
export function fingerprintAt(buf: Buffer, pos: number): string {
  if (!sameBytes(buf, pos, lastFpr.bytes)) remember(lastFpr, buf, pos, FINGERPRINT_BYTES, true);
  return lastFpr.text;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Whether the 32 bytes at `pos` are the hash whose lower-case hex is `hex`. */
function isHashAt(buf: Buffer, pos: number, hex: string): boolean {
  if (hex.length !== 2 * HASH_BYTES) return false;
  for (let i = 0; i < HASH_BYTES; i++) {
    const b = buf[pos + i];
    if (HEX_DIGITS[b >> 4] !== hex.charCodeAt(2 * i) || HEX_DIGITS[b & 15] !== hex.charCodeAt(2 * i + 1)) return false;
  }
  return true;
}

/** Reads canonical fields; every irregularity is a typed DecodeError. */
export class Reader {
  private buf: Buffer;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads `bytes` from the start: a decoder called per entry reuses one Reader instead of making one each time. */
  reset(bytes: Uint8Array): this {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    return this;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new DecodeError('DECODE_TRUNCATED', `${what}: need ${n} bytes, ${this.remaining} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  varint(what: string): number {
    // Most varints are one byte (counts, ops, small seqs).
    if (this.pos < this.buf.length && this.buf[this.pos] < 0x80) return this.buf[this.pos++];
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      this.need(1, what);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new DecodeError('DECODE_NON_CANONICAL_VARINT', `${what}: trailing zero byte`);
        if (result > Number.MAX_SAFE_INTEGER) throw new DecodeError('DECODE_VARINT_OVERFLOW', `${what}: more than 2^53 - 1`);
        return result;
      }
      mul *= 0x80;
      if (i >= 7) throw new DecodeError('DECODE_VARINT_OVERFLOW', `${what}: more than 8 bytes`);
    }
  }

  /** A varint that must lie in [min, max]. */
  int(what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.varint(what);
    if (v < min || v > max) throw new DecodeError('DECODE_OUT_OF_RANGE', `${what}: ${v} not in [${min}, ${max}]`);
    return v;
  }

  private hex(n: number, what: string): string {
    this.need(n, what);
    const s = hexSlice(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  hash(what: string): string {
    return this.hex(HASH_BYTES, what);
  }

  /**
   * A hash that is usually `likely` (an entry's prev is the hash of the entry decoded just
   * before it): then that same string, compared in place, instead of a new one. Later checks
   * of the chain then compare one string with itself.
   */
  hashLikely(likely: string, what: string): string {
    this.need(HASH_BYTES, what);
    if (!isHashAt(this.buf, this.pos, likely)) return this.hex(HASH_BYTES, what);
    this.pos += HASH_BYTES;
    return likely;
  }

  /** Steps over `n` bytes that must be there. */
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  fingerprint(what: string): string {
    this.need(FINGERPRINT_BYTES, what);
    const text = fingerprintAt(this.buf, this.pos);
    this.pos += FINGERPRINT_BYTES;
    return text;
  }

  folder(): string {
    this.need(FOLDER_BYTES, 'folder');
    if (!sameBytes(this.buf, this.pos, lastFolder.bytes)) remember(lastFolder, this.buf, this.pos, FOLDER_BYTES, false);
    this.pos += FOLDER_BYTES;
    return lastFolder.text;
  }

  string(maxBytes: number, what: string): string {
    const len = this.varint(what);
    if (len > maxBytes) throw new DecodeError('DECODE_TOO_LARGE', `${what}: ${len} bytes, more than ${maxBytes}`);
    this.need(len, what);
    // Paths are nearly always ASCII, which is its own UTF-8 and Latin-1: a loop over the bytes
    // instead of a view, the UTF-8 validator and the UTF-8 decoder.
    const buf = this.buf;
    const start = this.pos;
    const end = start + len;
    let i = start;
    while (i < end && buf[i] < 0x80) i++;
    if (i === end) {
      this.pos = end;
      return latin1Slice(buf, start, end);
    }
    const slice = buf.subarray(start, end);
    if (!isUtf8(slice)) throw new DecodeError('DECODE_BAD_UTF8', `${what}: not valid UTF-8`);
    this.pos = end;
    return slice.toString('utf8');
  }

  bytes(maxBytes: number, what: string): Buffer {
    const len = this.varint(what);
    if (len > maxBytes) throw new DecodeError('DECODE_TOO_LARGE', `${what}: ${len} bytes, more than ${maxBytes}`);
    return this.raw(len, what);
  }

  /** A copy, so decoded objects never alias the caller's buffer. */
  raw(n: number, what: string): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Raw view without copying, for hashing a span of the input. */
  span(start: number, end: number): Buffer {
    return this.buf.subarray(start, end);
  }

  end(what: string): void {
    if (this.pos !== this.buf.length) throw new DecodeError('DECODE_TRAILING_BYTES', `${what}: ${this.remaining} bytes after the end`);
  }
}

/** Checks a list of strings is strictly ascending (so sorted and unique) in code-unit order. */
export function strictlyAscending(list: readonly string[]): -1 | number {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1] < list[i])) return i;
  return -1;
}

/** Same order as `strictlyAscending` checks, on strings whose byte order equals code-unit order (hex). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compares strings in UTF-8 byte order (= code point order), which other languages agree
 * on; plain `<` compares UTF-16 code units and puts U+E000..U+FFFF after astral characters.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}
