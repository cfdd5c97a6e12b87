/**
 * Body of the BlockReads worker thread: reads the blocks of a batch one after the other with
 * blocking calls (open without following a link, pread, close), hashes each and answers which
 * of them hold the bytes their hash names. The found blocks' bytes come back in one buffer,
 * transferred (no copy), each at its place in the request order.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { constants as fsc } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface BlockReadRequest {
  /** Absolute path, its parents checked by the caller (safePath); the last component is opened with O_NOFOLLOW. */
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  /** The SHA-256 (hex) the bytes must have to be answered. */
  readonly hash: string;
}

export interface BlockReadsBatch {
  readonly id: number;
  readonly reads: readonly BlockReadRequest[];
}

export interface BlockReadsReply {
  readonly id: number;
  /** All reads' bytes, each read's at the sum of the sizes before it (a read not found leaves its room unused). */
  readonly data: ArrayBuffer;
  /** Per read: 1 when its bytes are there and hash right; 0 when not (gone, moved, short, changed, unreadable). */
  readonly found: Uint8Array;
}

// O_NOFOLLOW: an indexed file that became a symlink must not make us read outside its folder.
// O_NONBLOCK: a FIFO put where a file was must not hang the worker.
const READ_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

/** Reads one block into `into` and checks it; false for any failure (a location is a claim, not a promise). */
export function readVerified(r: BlockReadRequest, into: Uint8Array): boolean {
  let fd: number;
  try {
    fd = fs.openSync(r.path, READ_FLAGS);
  } catch {
    return false;
  }
  try {
    for (let got = 0; got < r.size; ) {
      const n = fs.readSync(fd, into, got, r.size - got, r.offset + got);
      if (n === 0) return false;
      got += n;
    }
  } catch {
    return false;
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // A read-only descriptor: nothing to lose.
    }
  }
  return createHash('sha256').update(into).digest('hex') === r.hash;
}

export function readBatch(reads: readonly BlockReadRequest[]): { data: ArrayBuffer; found: Uint8Array } {
  let total = 0;
  for (const r of reads) total += r.size;
  const data = new ArrayBuffer(total);
  const found = new Uint8Array(reads.length);
  let at = 0;
  reads.forEach((r, i) => {
    found[i] = readVerified(r, new Uint8Array(data, at, r.size)) ? 1 : 0;
    at += r.size;
  });
  return { data, found };
}

const port = parentPort;
if (port) {
  port.on('message', (batch: BlockReadsBatch) => {
    const { data, found } = readBatch(batch.reads);
    port.postMessage({ id: batch.id, data, found } satisfies BlockReadsReply, [data, found.buffer as ArrayBuffer]);
  });
}
