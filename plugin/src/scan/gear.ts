/**
 * The gear rolling hash's hot loop: find the first position in b[start, end) whose hash,
 * rolled on from `h` as h = (h << 1) + GEAR[byte] (mod 2^32), has no bit of `mask` set.
 *
 * Two implementations with identical results: a WebAssembly loop (about 2 GB/s here, 30-40%
 * faster than the best JS, which matters because hashing 1 GiB is CPU-bound) and a JS loop
 * (about 1.5 GB/s) used where WebAssembly cannot be instantiated. The test suite checks both
 * against a plain byte-at-a-time reference.
 */
import { GEAR_WORDS } from './gear-table';

/** Scans; returns the index just past the cut, or -1. The rolled hash is left in GEAR_STATE[0]. */
export type GearScan = (b: Uint8Array, start: number, end: number, h: number, mask: number) => number;

/** Out-parameter for the rolled hash (no allocation per call on the hot path). */
export const GEAR_STATE = new Int32Array(1);

// Int32 arithmetic keeps V8 on its small-integer fast path; `| 0` wraps like uint32 would.
const GEAR = Int32Array.from(GEAR_WORDS, (w) => w | 0);

// Word loads pull four bytes per memory access; the byte order inside the word must be known.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export const findCutJs: GearScan = (b, start, end, h, mask) => {
  let i = start;
  if (LITTLE_ENDIAN) {
    const off = b.byteOffset;
    while (i < end && ((off + i) & 3) !== 0) {
      h = ((h << 1) + GEAR[b[i]]) | 0;
      i++;
      if ((h & mask) === 0) return cut(h, i);
    }
    const words = (end - i) >> 2;
    if (words > 0) {
      const w32 = new Int32Array(b.buffer, off + i, words);
      for (let k = 0; k < words; k++) {
        const w = w32[k];
        h = ((h << 1) + GEAR[w & 255]) | 0;
        if ((h & mask) === 0) return cut(h, i + 4 * k + 1);
        h = ((h << 1) + GEAR[(w >>> 8) & 255]) | 0;
        if ((h & mask) === 0) return cut(h, i + 4 * k + 2);
        h = ((h << 1) + GEAR[(w >>> 16) & 255]) | 0;
        if ((h & mask) === 0) return cut(h, i + 4 * k + 3);
        h = ((h << 1) + GEAR[w >>> 24]) | 0;
        if ((h & mask) === 0) return cut(h, i + 4 * k + 4);
      }
      i += 4 * words;
    }
  }
  for (; i < end; i++) {
    h = ((h << 1) + GEAR[b[i]]) | 0;
    if ((h & mask) === 0) return cut(h, i + 1);
  }
  GEAR_STATE[0] = h;
  return -1;
};

function cut(h: number, index: number): number {
  GEAR_STATE[0] = h;
  return index;
}

// ---- WebAssembly ------------------------------------------------------------------------
//
// Memory layout (one instance per thread): [0, 1024) the gear table as little-endian i32,
// [1024, 1028) the rolled hash on return, [4096, 4096 + SCRATCH) the bytes to scan, copied
// in from the caller's buffer (a copy runs at ~25 GB/s, noise next to the scan).
//
// The function, in WAT:
//   (func $find (param $i i32) (param $end i32) (param $h i32) (param $mask i32) (result i32)
//     (local $w i32)
//     block loop                                      ;; four bytes per turn from one load
//       (br_if 1 (i32.gt_u (i32.add $i 4) $end))
//       (local.set $w (i32.load $i))
//       STEP(w & 255, 1) STEP(w >> 8 & 255, 2) STEP(w >> 16 & 255, 3) STEP(w >> 24, 4)
//       (local.set $i (i32.add $i 4)) (br 0)
//     end end
//     block loop                                      ;; the last 0-3 bytes
//       (br_if 1 (i32.ge_u $i $end))
//       STEP(load8_u $i, 1) (local.set $i (i32.add $i 1)) (br 0)
//     end end
//     (i32.store 1024 $h) (i32.const -1))
//   STEP(byte, k) = (local.set $h (i32.add (i32.shl $h 1) (i32.load (i32.shl byte 2))))
//                   (if (i32.eqz (i32.and $h $mask)) (then (i32.store 1024 $h) (return (i32.add $i k))))

const STATE_ADDR = 1024;
const SCRATCH_ADDR = 4096;
const SCRATCH_SIZE = 1024 * 1024;

const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, void: 0x40,
  localGet: 0x20, localSet: 0x21, i32Load: 0x28, i32Load8u: 0x2d, i32Store: 0x36, i32Const: 0x41,
  i32Eqz: 0x45, i32GeU: 0x4f, i32GtU: 0x4b, i32Add: 0x6a, i32And: 0x71, i32Shl: 0x74, i32ShrU: 0x76, i32: 0x7f,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function buildModule(): Uint8Array<ArrayBuffer> {
  const [I, END, H, MASK, W] = [0, 1, 2, 3, 4];
  const get = (l: number) => [OP.localGet, l];
  const set = (l: number) => [OP.localSet, l];
  const k32 = (n: number) => [OP.i32Const, ...sleb(n)];
  const storeH = [...k32(STATE_ADDR), ...get(H), OP.i32Store, 2, 0];
  const step = (byte: number[], k: number) => [
    ...get(H), ...k32(1), OP.i32Shl, ...byte, ...k32(2), OP.i32Shl, OP.i32Load, 2, 0, OP.i32Add, ...set(H),
    ...get(H), ...get(MASK), OP.i32And, OP.i32Eqz, OP.if, OP.void, ...storeH, ...get(I), ...k32(k), OP.i32Add, OP.return, OP.end,
  ];
  const wordByte = (shift: number) => [...get(W), ...(shift ? [...k32(shift), OP.i32ShrU] : []), ...(shift < 24 ? [...k32(255), OP.i32And] : [])];
  const body = [
    1, 1, OP.i32, // one extra local: $w
    OP.block, OP.void, OP.loop, OP.void,
    ...get(I), ...k32(4), OP.i32Add, ...get(END), OP.i32GtU, OP.brIf, 1,
    ...get(I), OP.i32Load, 0, 0, ...set(W),
    ...step(wordByte(0), 1), ...step(wordByte(8), 2), ...step(wordByte(16), 3), ...step(wordByte(24), 4),
    ...get(I), ...k32(4), OP.i32Add, ...set(I), OP.br, 0,
    OP.end, OP.end,
    OP.block, OP.void, OP.loop, OP.void,
    ...get(I), ...get(END), OP.i32GeU, OP.brIf, 1,
    ...step([...get(I), OP.i32Load8u, 0, 0], 1),
    ...get(I), ...k32(1), OP.i32Add, ...set(I), OP.br, 0,
    OP.end, OP.end,
    ...storeH, ...k32(-1), OP.end,
  ];
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
  const pages = Math.ceil((SCRATCH_ADDR + SCRATCH_SIZE) / 65536);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 4, OP.i32, OP.i32, OP.i32, OP.i32, 1, OP.i32]), // type: (i32 x4) -> i32
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x00, ...uleb(pages)]), // memory, no maximum
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('find'), 0x00, 0]), // exports
    ...section(10, [1, ...uleb(body.length), ...body]), // code
  ]);
}

function instantiate(): GearScan | undefined {
  // Not named `exports`: compiled to CommonJS, that name would shadow the module's own exports.
  let wasm: WebAssembly.Exports;
  try {
    wasm = new WebAssembly.Instance(new WebAssembly.Module(buildModule())).exports;
  } catch {
    return undefined; // no WebAssembly here (e.g. --jitless): the JS loop gives the same cuts
  }
  if (!LITTLE_ENDIAN) return undefined; // WebAssembly memory is little-endian; the table is written natively
  const memory = wasm.memory as WebAssembly.Memory;
  const find = wasm.find as (i: number, end: number, h: number, mask: number) => number;
  const bytes = new Uint8Array(memory.buffer);
  new Int32Array(memory.buffer, 0, 256).set(GEAR);
  const state = new Int32Array(memory.buffer, STATE_ADDR, 1);
  return (b, start, end, h, mask) => {
    for (let i = start; i < end; ) {
      const n = Math.min(end - i, SCRATCH_SIZE);
      bytes.set(b.subarray(i, i + n), SCRATCH_ADDR);
      const r = find(SCRATCH_ADDR, SCRATCH_ADDR + n, h, mask);
      h = state[0];
      if (r >= 0) return cut(h, i + (r - SCRATCH_ADDR));
      i += n;
    }
    GEAR_STATE[0] = h;
    return -1;
  };
}

/** The WebAssembly scan, or undefined where it cannot run. */
export const findCutWasm: GearScan | undefined = instantiate();

/** What the chunker uses. */
export const findCut: GearScan = findCutWasm ?? findCutJs;
