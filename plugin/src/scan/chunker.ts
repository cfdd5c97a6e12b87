/**
 * FastCDC content-defined chunking (Xia et al., 2016): a gear rolling hash with normalized
 * chunking (a harder mask before the average size, an easier one after), cut-point skipping
 * (the first `minSize` bytes of a block are never hashed) and a hard maximum. Boundaries depend
 * only on content, so inserting bytes changes the blocks around the insertion and no others.
 *
 * Streaming: `BlockChunker.update()` takes pieces of any size and never copies or keeps them.
 * Each block's SHA-256 and the whole-file SHA-256 are fed the same pieces in the same pass,
 * so memory stays constant whatever the file size. Pure: no I/O, no clock.
 */
import { createHash, type Hash as NodeHash } from 'node:crypto';
import { contentHashOf } from '../log/encoding';
import { ScanError, throwIfAborted } from './errors';
import { findCut, GEAR_STATE } from './gear';
import type { HashedContent, ScannedBlock } from './types';

export interface ChunkerOptions {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
}

/** 64 KiB / 256 KiB / 1 MiB. Part of the format: every member must cut files the same way. */
export const DEFAULT_CHUNKER_OPTIONS: ChunkerOptions = Object.freeze({
  minSize: 64 * 1024,
  avgSize: 256 * 1024,
  maxSize: 1024 * 1024,
});

/**
 * Masks take the top bits of the hash: after shifting left, the top bits mix the last 32 bytes
 * (a wider window than the low bits). Normalization level 2: avg bits + 2 before avg, - 2 after.
 */
function topBitsMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

/**
 * Splits a byte stream into blocks and hashes them. Feed pieces with `update` (returns the
 * blocks completed by that piece), then call `finish` once. Same input, same blocks, however
 * the input is split into pieces.
 */
export class BlockChunker {
  private readonly minSize: number;
  private readonly avgSize: number;
  private readonly maxSize: number;
  private readonly maskS: number;
  private readonly maskL: number;
  private blockHash: NodeHash = createHash('sha256');
  /** Bytes of the current (unfinished) block seen so far. */
  private pos = 0;
  private h = 0;
  private total = 0;
  private readonly blocks: ScannedBlock[] = [];
  private finished = false;

  constructor(options: ChunkerOptions = DEFAULT_CHUNKER_OPTIONS) {
    const { minSize, avgSize, maxSize } = options;
    const ok = [minSize, avgSize, maxSize].every((n) => Number.isInteger(n) && n > 0) && minSize <= avgSize && avgSize <= maxSize;
    if (!ok) throw new ScanError('INVALID_OPTIONS', `chunk sizes must satisfy 0 < min <= avg <= max (got ${minSize}/${avgSize}/${maxSize})`);
    const bits = Math.round(Math.log2(avgSize));
    if (bits < 4 || bits > 28) throw new ScanError('INVALID_OPTIONS', `average chunk size ${avgSize} out of range`);
    this.minSize = minSize;
    this.avgSize = avgSize;
    this.maxSize = maxSize;
    this.maskS = topBitsMask(bits + 2);
    this.maskL = topBitsMask(bits - 2);
  }

  /** Consumes one piece; the piece is not retained and may be reused by the caller afterwards. */
  update(data: Uint8Array): ScannedBlock[] {
    if (this.finished) throw new ScanError('INVALID_OPTIONS', 'update after finish');
    const len = data.length;
    if (len === 0) return [];
    this.total += len;
    const done: ScannedBlock[] = [];
    let i = 0; // next unexamined index in data
    let blockStart = 0; // where the current block's bytes begin within data
    while (i < len) {
      let cut = -1;
      if (this.pos < this.minSize) {
        // Cut-point skipping: no boundary can fall here, so these bytes are not rolled.
        const skip = Math.min(this.minSize - this.pos, len - i);
        i += skip;
        this.pos += skip;
        continue;
      }
      const normal = this.pos < this.avgSize;
      const limit = normal ? this.avgSize : this.maxSize;
      const end = Math.min(len, i + (limit - this.pos));
      cut = findCut(data, i, end, this.h, normal ? this.maskS : this.maskL);
      this.h = GEAR_STATE[0];
      if (cut < 0) {
        this.pos += end - i;
        i = end;
        if (this.pos < this.maxSize) continue;
        cut = end; // hard maximum
      }
      this.blockHash.update(data.subarray(blockStart, cut));
      const block: ScannedBlock = { hash: this.blockHash.digest('hex'), size: this.pos + (cut - i) };
      done.push(block);
      this.blocks.push(block);
      this.blockHash = createHash('sha256');
      this.pos = 0;
      this.h = 0;
      i = cut;
      blockStart = cut;
    }
    if (blockStart < len) this.blockHash.update(data.subarray(blockStart, len));
    return done;
  }

  /** Closes the last block and returns the file's size, content hash (over the block hashes) and block list. */
  finish(): HashedContent {
    if (this.finished) throw new ScanError('INVALID_OPTIONS', 'finish called twice');
    this.finished = true;
    if (this.pos > 0) this.blocks.push({ hash: this.blockHash.digest('hex'), size: this.pos });
    return { size: this.total, contentHash: contentHashOf(this.blocks), blocks: this.blocks };
  }
}

/**
 * Block sizes only, no hashing, for one in-memory buffer: the cost of finding boundaries on
 * its own (the bench's breakdown) and a second path to the same cut points (the tests).
 */
export function blockSizes(data: Uint8Array, options: ChunkerOptions = DEFAULT_CHUNKER_OPTIONS): number[] {
  new BlockChunker(options); // throws INVALID_OPTIONS for sizes out of order
  const bits = Math.round(Math.log2(options.avgSize));
  const maskS = topBitsMask(bits + 2);
  const maskL = topBitsMask(bits - 2);
  const sizes: number[] = [];
  let start = 0;
  while (start < data.length) {
    const end = Math.min(data.length, start + options.maxSize);
    let cut = -1;
    if (start + options.minSize < end) {
      cut = findCut(data, start + options.minSize, Math.min(end, start + options.avgSize), 0, maskS);
      if (cut < 0 && start + options.avgSize < end) cut = findCut(data, start + options.avgSize, end, GEAR_STATE[0], maskL);
    }
    if (cut < 0) cut = end;
    sizes.push(cut - start);
    start = cut;
  }
  return sizes;
}

/**
 * Chunks and hashes a whole stream (a Readable or any async iterable of byte pieces).
 * `onBlock` sees each block as soon as it is complete, in order (the last one at the end).
 */
export async function chunkStream(
  source: AsyncIterable<Uint8Array>,
  options: { signal?: AbortSignal; chunker?: ChunkerOptions; onBlock?: (block: ScannedBlock) => void } = {},
): Promise<HashedContent> {
  const chunker = new BlockChunker(options.chunker);
  let emitted = 0;
  throwIfAborted(options.signal);
  for await (const piece of source) {
    throwIfAborted(options.signal);
    const done = chunker.update(piece);
    emitted += done.length;
    if (options.onBlock) for (const b of done) options.onBlock(b);
  }
  throwIfAborted(options.signal);
  const result = chunker.finish();
  if (options.onBlock) for (const b of result.blocks.slice(emitted)) options.onBlock(b);
  return result;
}

/** Chunks one in-memory buffer (tests, small files). */
export function chunkBuffer(data: Uint8Array, options?: ChunkerOptions): HashedContent {
  const chunker = new BlockChunker(options);
  chunker.update(data);
  return chunker.finish();
}
