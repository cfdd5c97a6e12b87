/** Conversions between record fields and sqlite values, with the checks that keep bad values out. */
import { StoreError } from './errors';

const HASH_HEX = /^[0-9a-f]{64}$/;

export function checkHash(hash: string, field: string): string {
  if (typeof hash !== 'string' || !HASH_HEX.test(hash)) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `${field} must be 64 lowercase hex characters, got ${JSON.stringify(hash)}`);
  }
  return hash;
}

export function hashToBlob(hash: string, field: string): Buffer {
  return Buffer.from(checkHash(hash, field), 'hex');
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
