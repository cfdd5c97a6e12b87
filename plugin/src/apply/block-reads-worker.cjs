// @ts-check
/**
 * Body of the BlockReads worker thread: reads the blocks of a batch one after the other with
 * blocking calls (open without following a link, pread, close), hashes each and answers which
 * of them hold the bytes their hash names. The found blocks' bytes come back in one buffer,
 * transferred (no copy), each at its place in the request order.
 *
 * Plain JavaScript (its types checked from JSDoc): a worker started from TypeScript sources
 * had to load tsx, ~8 MB of each sidecar's 200 MB budget.
 */
'use strict';
// One-shot SHA-256 (Node >= 20.12, as package.json's engines require): no Hash object, a native handle to finalize, per block served.
const { hash: oneShotHash } = require('node:crypto');
const fs = require('node:fs');
const { constants: fsc } = require('node:fs');
const { parentPort } = require('node:worker_threads');

/** @typedef {import('./block-reads-types').BlockReadRequest} BlockReadRequest */
/** @typedef {import('./block-reads-types').BlockReadsBatch} BlockReadsBatch */
/** @typedef {import('./block-reads-types').BlockReadsReply} BlockReadsReply */

// O_NOFOLLOW: an indexed file that became a symlink must not make us read outside its folder.
// O_NONBLOCK: a FIFO put where a file was must not hang the worker.
const READ_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

/**
 * Reads one block into `into` and checks it; false for any failure (a location is a claim, not a promise).
 * @param {BlockReadRequest} r
 * @param {Uint8Array} into
 * @returns {boolean}
 */
function readVerified(r, into) {
  let fd;
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
  return oneShotHash('sha256', into, 'hex') === r.hash;
}

/**
 * @param {readonly BlockReadRequest[]} reads
 * @returns {{ data: ArrayBuffer; found: Uint8Array }}
 */
function readBatch(reads) {
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
  port.on('message', (/** @type {BlockReadsBatch} */ batch) => {
    const { data, found } = readBatch(batch.reads);
    /** @type {BlockReadsReply} */
    const reply = { id: batch.id, data, found };
    port.postMessage(reply, [data, /** @type {ArrayBuffer} */ (found.buffer)]);
  });
}

module.exports = { readVerified, readBatch };
