/** Conversions between record fields and sqlite values, with the checks that keep bad values out. */
import { StoreError } from './errors';

// Every stored entry's hash, prev and parents pass through here: a table lookup per character
// costs half of what the regex /^[0-9a-f]{64}$/ did (5% of a catch-up's main thread).
const LOWER_HEX = new Int8Array(65536).fill(-1); // indexed by any UTF-16 code unit
for (let i = 0; i < 16; i++) LOWER_HEX['0123456789abcdef'.charCodeAt(i)] = i;

function badHash(hash: unknown, field: string): never {
  throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be 64 lowercase hex characters, got ${JSON.stringify(hash)}`);
}

export function checkHash(hash: string, field: string): string {
  if (typeof hash !== 'string' || hash.length !== 64) badHash(hash, field);
  let bad = 0;
  for (let i = 0; i < 64; i++) bad |= LOWER_HEX[hash.charCodeAt(i)];
  if (bad < 0) badHash(hash, field);
  return hash;
}

/** Checks a hash and writes its 32 bytes at `offset`, in one pass (a check, then Buffer#write, is two). */
export function writeHash(hash: string, out: Buffer, offset: number, field: string): void {
  if (typeof hash !== 'string' || hash.length !== 64) badHash(hash, field);
  let bad = 0;
  for (let i = 0; i < 32; i++) {
    const hi = LOWER_HEX[hash.charCodeAt(2 * i)];
    const lo = LOWER_HEX[hash.charCodeAt(2 * i + 1)];
    bad |= hi | lo;
    out[offset + i] = (hi << 4) | lo;
  }
  if (bad < 0) badHash(hash, field);
}

export function hashToBlob(hash: string, field: string): Buffer {
  const out = Buffer.allocUnsafe(32);
  writeHash(hash, out, 0, field);
  return out;
}

export function optHashToBlob(hash: string | null, field: string): Buffer | null {
  return hash === null ? null : hashToBlob(hash, field);
}

export function blobToHash(blob: Buffer): string {
  return blob.toString('hex');
}

export function optBlobToHash(blob: Buffer | null): string | null {
  return blob === null ? null : blob.toString('hex');
}

export function checkSeq(n: number, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be a non-negative safe integer, got ${n}`);
  }
  return n;
}

export function checkText(s: string, field: string): string {
  if (typeof s !== 'string' || s.length === 0) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be a non-empty string`);
  }
  return s;
}

/** Several byte strings in one blob: [u32 big-endian length, bytes]... (for evidence the store keeps but never reads). */
export function frame(parts: readonly Buffer[], field: string): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (!Buffer.isBuffer(p)) throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be Buffers`);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    out.push(len, p);
  }
  return Buffer.concat(out);
}

export function unframe(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < blob.length; ) {
    const n = blob.readUInt32BE(i);
    out.push(blob.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return out;
}
