import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { BlockChunker, blockSizes, chunkBuffer, chunkStream, DEFAULT_CHUNKER_OPTIONS, type ChunkerOptions } from '../../../plugin/src/scan/chunker';
import { findCut, findCutJs, findCutWasm, GEAR_STATE, type GearScan } from '../../../plugin/src/scan/gear';
import { GEAR_WORDS } from '../../../plugin/src/scan/gear-table';
import { EMPTY_SHA256, type HashedContent } from '../../../plugin/src/scan/types';
import { seededBytes, sha256Hex } from './helpers';
import vectors from './vectors/chunker.json';
import { contentHashOf } from '../../../plugin/src/log';

const SMALL: ChunkerOptions = { minSize: 256, avgSize: 1024, maxSize: 4096 };

/**
 * FastCDC written the plain way (one byte at a time, whole buffer in memory, uint32
 * arithmetic), to check the streaming, word-at-a-time implementation against.
 */
function referenceSizes(data: Uint8Array, o: ChunkerOptions): number[] {
  const bits = Math.round(Math.log2(o.avgSize));
  const maskS = (0xffffffff << (32 - (bits + 2))) >>> 0;
  const maskL = (0xffffffff << (32 - (bits - 2))) >>> 0;
  const sizes: number[] = [];
  let start = 0;
  while (start < data.length) {
    const end = Math.min(data.length - start, o.maxSize);
    let cut = end;
    let h = 0;
    for (let i = o.minSize; i < end; i++) {
      h = ((h << 1) + GEAR_WORDS[data[start + i]]) >>> 0;
      if (((h & (i < o.avgSize ? maskS : maskL)) >>> 0) === 0) {
        cut = i + 1;
        break;
      }
    }
    sizes.push(cut);
    start += cut;
  }
  return sizes;
}

function changedBlocks(before: HashedContent, after: HashedContent): number {
  const known = new Set(before.blocks.map((b) => b.hash));
  return after.blocks.filter((b) => !known.has(b.hash)).length;
}

describe('gear table', () => {
  it('is SHA-256("kinfolder/gear/v1/" + i), first 4 bytes big-endian', () => {
    expect(GEAR_WORDS).toHaveLength(256);
    GEAR_WORDS.forEach((w, i) => {
      expect(w).toBe(createHash('sha256').update(`kinfolder/gear/v1/${i}`).digest().readUInt32BE(0));
    });
  });
});

describe('gear scan', () => {
  /** Byte-at-a-time uint32 reference of one scan. */
  function referenceScan(b: Uint8Array, start: number, end: number, h: number, mask: number): [number, number] {
    let x = h >>> 0;
    for (let i = start; i < end; i++) {
      x = ((x << 1) + GEAR_WORDS[b[i]]) >>> 0;
      if (((x & mask) >>> 0) === 0) return [i + 1, x | 0];
    }
    return [-1, x | 0];
  }

  it('runs on WebAssembly here', () => {
    expect(findCutWasm).toBeDefined();
    expect(findCut).toBe(findCutWasm);
  });

  it.each([['js', findCutJs] as const, ['wasm', findCutWasm as GearScan] as const])('%s matches the reference: cut position and rolled hash, any offsets', (_name, scan) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 4, max: 14 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (pad, len, h, bits, seed) => {
          const data = seededBytes(`scan/${seed}`, pad + len + 5);
          const view = data.subarray(1); // odd byteOffset on purpose
          const mask = (0xffffffff << (32 - bits)) | 0;
          const expected = referenceScan(view, pad, pad + len, h, mask);
          const got = scan(view, pad, pad + len, h, mask);
          expect([got, GEAR_STATE[0]]).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('wasm handles ranges longer than its scratch area', () => {
    const data = seededBytes('long-scan', 3 * 1024 * 1024 + 3);
    const never = -1; // every bit set: needs a hash of zero, which this data never rolls
    expect(findCutWasm!(data, 1, data.length, 7, never)).toBe(findCutJs(data, 1, data.length, 7, never));
    const jsState = GEAR_STATE[0];
    findCutWasm!(data, 1, data.length, 7, never);
    expect(GEAR_STATE[0]).toBe(jsState);
    const mask = (0xffffffff << 10) | 0; // 22 bits: a cut after ~4 MiB on average
    expect(findCutWasm!(data, 0, data.length, 0, mask)).toBe(referenceScan(data, 0, data.length, 0, mask)[0]);
  });
});

describe('BlockChunker', () => {
  it.each(vectors.cases.map((c) => [c.seed, c] as const))('matches the committed vector %s', (_seed, c) => {
    const data = seededBytes(c.seed, c.length);
    const r = chunkBuffer(data, c.options);
    expect(r.size).toBe(c.length);
    expect(r.contentHash).toBe(c.contentHash);
    expect(r.blocks).toEqual(c.blocks);
    expect(r.blocks.map((b) => b.size)).toEqual(referenceSizes(data, c.options));
    expect(blockSizes(data, c.options)).toEqual(referenceSizes(data, c.options));
  });

  it('hashes each block with SHA-256, and the content as the hash of the block list', () => {
    const data = seededBytes('hashes', 3 * 1024 * 1024);
    const r = chunkBuffer(data);
    expect(r.contentHash).toBe(contentHashOf(r.blocks));
    expect(r.contentHash).not.toBe(sha256Hex(data));
    let offset = 0;
    for (const b of r.blocks) {
      expect(b.hash).toBe(sha256Hex(data.subarray(offset, offset + b.size)));
      offset += b.size;
    }
    expect(offset).toBe(data.length);
  });

  it('gives an empty file zero blocks and the SHA-256 of nothing', () => {
    const r = chunkBuffer(new Uint8Array(0));
    expect(r).toEqual({ size: 0, contentHash: contentHashOf([]), blocks: [] });
    expect(EMPTY_SHA256).toBe(sha256Hex(''));
  });

  it('respects min and max: every block but the last is within [min, max]', () => {
    // Zeros never produce a cut with these masks, so every block is forced to the maximum.
    const zeros = chunkBuffer(new Uint8Array(10 * 4096 + 100), SMALL);
    expect(zeros.blocks.map((b) => b.size)).toEqual([...Array(10).fill(4096), 100]);
    const data = seededBytes('bounds', 8 * 1024 * 1024);
    const r = chunkBuffer(data);
    const sizes = r.blocks.map((b) => b.size);
    for (const s of sizes.slice(0, -1)) {
      expect(s).toBeGreaterThanOrEqual(DEFAULT_CHUNKER_OPTIONS.minSize);
      expect(s).toBeLessThanOrEqual(DEFAULT_CHUNKER_OPTIONS.maxSize);
    }
    const avg = data.length / sizes.length;
    expect(avg).toBeGreaterThan(128 * 1024);
    expect(avg).toBeLessThan(512 * 1024);
  });

  it('a 1-byte insertion at the start or in the middle changes at most 2 blocks', () => {
    const data = seededBytes('insert', 16 * 1024 * 1024);
    const before = chunkBuffer(data);
    const atStart = chunkBuffer(Buffer.concat([Buffer.from([0x42]), data]));
    const mid = data.length >> 1;
    const inMiddle = chunkBuffer(Buffer.concat([data.subarray(0, mid), Buffer.from([0x42]), data.subarray(mid)]));
    expect(before.blocks.length).toBeGreaterThan(30);
    expect(changedBlocks(before, atStart)).toBeLessThanOrEqual(2);
    expect(changedBlocks(before, inMiddle)).toBeLessThanOrEqual(2);
    expect(changedBlocks(before, atStart)).toBeGreaterThanOrEqual(1);
  });

  it('gives the same blocks however the input is split (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 30000 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (bytes, cuts, copyPieces) => {
          // Random bytes alone rarely cut early; mixing in a seeded tail gives realistic boundaries.
          const data = Buffer.concat([bytes, seededBytes(`split/${bytes.length}`, 20000)]);
          const whole = chunkBuffer(data, SMALL);
          const chunker = new BlockChunker(SMALL);
          let offset = 0;
          let k = 0;
          while (offset < data.length) {
            const n = Math.min(cuts[k++ % cuts.length], data.length - offset);
            // Subarrays sit at odd offsets of one buffer; copies are freshly aligned: both paths must agree.
            const piece = data.subarray(offset, offset + n);
            chunker.update(copyPieces ? Buffer.from(piece) : piece);
            offset += n;
          }
          const streamed = chunker.finish();
          expect(streamed).toEqual(whole);
          expect(whole.blocks.map((b) => b.size)).toEqual(referenceSizes(data, SMALL));
          expect(blockSizes(data, SMALL)).toEqual(referenceSizes(data, SMALL));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not keep the caller’s buffers: reusing one read buffer gives the same result', () => {
    const data = seededBytes('reuse', 2 * 1024 * 1024 + 77);
    const chunker = new BlockChunker();
    const scratch = Buffer.alloc(100_003);
    for (let off = 0; off < data.length; off += scratch.length) {
      const n = data.copy(scratch, 0, off, off + scratch.length);
      chunker.update(scratch.subarray(0, n));
      scratch.fill(0xee);
    }
    expect(chunker.finish()).toEqual(chunkBuffer(data));
  });

  it('chunkStream consumes a Readable and honours an aborted signal', async () => {
    const data = seededBytes('stream', 1024 * 1024 + 5);
    const seen: unknown[] = [];
    const r = await chunkStream(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { onBlock: (b) => seen.push(b) });
    expect(r).toEqual(chunkBuffer(data));
    expect(seen).toEqual(r.blocks);
    expect(seen.length).toBeGreaterThan(1);
    const controller = new AbortController();
    controller.abort();
    await expect(chunkStream(Readable.from([data]), { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses sizes out of order', () => {
    expect(() => new BlockChunker({ minSize: 10, avgSize: 5, maxSize: 20 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});
