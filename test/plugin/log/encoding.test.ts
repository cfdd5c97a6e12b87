import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  DecodeError,
  LogError,
  decodeCheckpoint,
  decodeEntry,
  decodeHashedEntry,
  encodeCheckpoint,
  encodeEntry,
  hashEntry,
  peekAuthor,
  peekSeq,
  sameAuthorBytes,
  type Entry,
} from '../../../plugin/src/log';
import { arbEntry, arbFingerprint, arbFolder, arbHash } from './arbitraries';
import { FOLDER, fileMeta, h } from '../../vectors/fixtures';

const AUTHOR = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const base: Entry = { folder: FOLDER, author: AUTHOR, seq: 2, prev: h('p'), lamport: 5, wallTimeMs: 1234, parents: [h('a'), h('b')].sort(), body: { op: 'put', path: 'x/y.txt', meta: fileMeta('y', 200_000) } };

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'OK';
  } catch (err) {
    if (err instanceof DecodeError || err instanceof LogError) return err.code;
    throw err;
  }
};

describe('entry encoding', () => {
  it('round-trips every valid entry to the same object, bytes and hash', () => {
    fc.assert(
      fc.property(arbEntry, (e) => {
        const he = hashEntry(e);
        expect(decodeEntry(he.bytes)).toEqual(e);
        expect(encodeEntry(decodeEntry(he.bytes))).toEqual(he.bytes);
        expect(decodeHashedEntry(he.bytes).hash).toBe(he.hash);
      }),
      { numRuns: 300 },
    );
  });

  it.each([0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 + 5, 1_750_000_000_123, Number.MAX_SAFE_INTEGER])('round-trips the varint %d', (v) => {
    const e = { ...base, wallTimeMs: v };
    expect(decodeEntry(encodeEntry(e)).wallTimeMs).toBe(v);
    const len = encodeEntry(e).length - encodeEntry({ ...base, wallTimeMs: 0 }).length + 1;
    expect(len).toBe(v === 0 ? 1 : Math.ceil(Math.log2(v + 1) / 7));
  });

  it('starts with the entry kind and format version, and the hash is SHA-256 of the bytes', () => {
    const he = hashEntry(base);
    expect([he.bytes[0], he.bytes[1]]).toEqual([1, 1]);
    expect(he.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to encode what no decoder would accept', () => {
    const bad: [string, Partial<Entry> | Record<string, unknown>][] = [
      ['seq 0', { seq: 0 }],
      ['prev on seq 1', { seq: 1 }],
      ['no prev on seq 2', { prev: null }],
      ['unsorted parents', { parents: [h('a'), h('b')].sort().reverse() }],
      ['duplicate parents', { parents: [h('a'), h('a')] }],
      ['upper-case hash', { prev: h('p').toUpperCase() }],
      ['lower-case fingerprint', { author: AUTHOR.toLowerCase() }],
      ['short folder', { folder: 'abcd' }],
      ['lamport 0', { lamport: 0 }],
      ['negative time', { wallTimeMs: -1 }],
      ['fractional time', { wallTimeMs: 1.5 }],
      ['lone surrogate in a path', { body: { op: 'delete', path: 'a\ud800b' } }],
      ['blocks not adding up', { body: { op: 'put', path: 'a', meta: { ...fileMeta('a', 10), size: 11 } } }],
      ['dir with blocks', { body: { op: 'put', path: 'a', meta: { ...fileMeta('a', 10), type: 'dir' } } }],
      ['symlink without target', { body: { op: 'put', path: 'a', meta: { ...fileMeta('a', 0), type: 'symlink' } } }],
      ['file with a link target', { body: { op: 'put', path: 'a', meta: { ...fileMeta('a', 0), linkTarget: 'b' } } }],
      ['mode out of range', { body: { op: 'put', path: 'a', meta: { ...fileMeta('a', 0), mode: 0o10000 } } }],
      ['unknown op', { body: { op: 'touch', path: 'a' } }],
    ];
    for (const [what, patch] of bad) expect([what, codeOf(() => encodeEntry({ ...base, ...patch } as Entry))]).toEqual([what, 'ENCODE_INVALID']);
  });

  it('refuses truncation at every length', () => {
    const { bytes } = hashEntry(base);
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeEntry(bytes.subarray(0, n)))).toBe('DECODE_TRUNCATED');
  });

  it('refuses trailing bytes, a wrong kind or version', () => {
    const { bytes } = hashEntry(base);
    expect(codeOf(() => decodeEntry(Buffer.concat([bytes, Buffer.from([0])])))).toBe('DECODE_TRAILING_BYTES');
    expect(codeOf(() => decodeEntry(Buffer.concat([Buffer.from([2]), bytes.subarray(1)])))).toBe('DECODE_BAD_KIND');
    expect(codeOf(() => decodeEntry(Buffer.concat([Buffer.from([1, 9]), bytes.subarray(2)])))).toBe('DECODE_BAD_FORMAT_VERSION');
  });

  it('refuses non-canonical and overflowing varints', () => {
    const { bytes } = hashEntry(base);
    // seq sits right after kind, version, folder (16) and author (20): offset 38.
    expect(bytes[38]).toBe(2);
    expect(codeOf(() => decodeEntry(Buffer.concat([bytes.subarray(0, 38), Buffer.from([0x82, 0x00]), bytes.subarray(39)])))).toBe('DECODE_NON_CANONICAL_VARINT');
    expect(codeOf(() => decodeEntry(Buffer.concat([bytes.subarray(0, 38), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), bytes.subarray(39)])))).toBe('DECODE_VARINT_OVERFLOW');
    expect(codeOf(() => decodeEntry(Buffer.concat([bytes.subarray(0, 38), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), bytes.subarray(39)])))).toBe('DECODE_VARINT_OVERFLOW');
    expect(codeOf(() => decodeEntry(Buffer.concat([bytes.subarray(0, 38), Buffer.from([0]), bytes.subarray(39 + 32)])))).toBe('DECODE_OUT_OF_RANGE');
  });

  it('refuses unsorted or repeated parents, bad UTF-8, and impossible counts', () => {
    const raw = (e: Entry) => encodeEntry(e);
    const sorted = [h('a'), h('b')].sort();
    const ok = raw({ ...base, parents: sorted });
    const parentsAt = ok.indexOf(Buffer.from(sorted[0], 'hex'));
    const swapped = Buffer.from(ok);
    Buffer.from(sorted[1], 'hex').copy(swapped, parentsAt);
    Buffer.from(sorted[0], 'hex').copy(swapped, parentsAt + 32);
    expect(codeOf(() => decodeEntry(swapped))).toBe('DECODE_UNSORTED');
    const repeated = Buffer.from(ok);
    Buffer.from(sorted[0], 'hex').copy(repeated, parentsAt + 32);
    expect(codeOf(() => decodeEntry(repeated))).toBe('DECODE_DUPLICATE');
    const del = raw({ ...base, body: { op: 'delete', path: 'ab' } });
    const badUtf8 = Buffer.from(del);
    badUtf8[badUtf8.length - 2] = 0xc3; // a lead byte followed by 'b'
    expect(codeOf(() => decodeEntry(badUtf8))).toBe('DECODE_BAD_UTF8');
    const huge = Buffer.from(del);
    huge[huge.length - 3] = 0x7f; // path length 127 with 2 bytes left
    expect(codeOf(() => decodeEntry(huge))).toBe('DECODE_TRUNCATED');
  });

  it('never throws anything but DecodeError on random bytes, and accepts only canonical ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, withHeader) => {
        const input = withHeader ? Buffer.concat([Buffer.from([1, 1]), bytes]) : Buffer.from(bytes);
        let e: Entry;
        try {
          e = decodeEntry(input);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          return;
        }
        expect(encodeEntry(e)).toEqual(input);
      }),
      { numRuns: 3000 },
    );
  });

  it('flipping any one bit of an entry either fails to decode or changes its hash and content', () => {
    fc.assert(
      fc.property(arbEntry, fc.nat(), fc.integer({ min: 0, max: 7 }), (e, pos, bit) => {
        const he = hashEntry(e);
        const mutated = Buffer.from(he.bytes);
        mutated[pos % mutated.length] ^= 1 << bit;
        let d: Entry;
        try {
          d = decodeEntry(mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          return;
        }
        expect(d).not.toEqual(e);
        expect(decodeHashedEntry(mutated).hash).not.toBe(he.hash);
        expect(encodeEntry(d)).toEqual(mutated);
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkpoint encoding', () => {
  const arbCheckpoint = fc.record({ folder: arbFolder, author: arbFingerprint, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), entryHash: arbHash, signature: fc.uint8Array({ maxLength: 600 }) });

  it('round-trips', () => {
    fc.assert(
      fc.property(arbCheckpoint, (cp) => {
        const bytes = encodeCheckpoint(cp);
        const d = decodeCheckpoint(bytes);
        expect({ ...d, signature: Buffer.from(d.signature) }).toEqual({ ...cp, signature: Buffer.from(cp.signature) });
        expect(encodeCheckpoint(d)).toEqual(bytes);
      }),
    );
  });

  it('never throws anything but DecodeError on random or truncated bytes', () => {
    fc.assert(
      fc.property(arbCheckpoint, fc.uint8Array({ maxLength: 100 }), fc.nat(), (cp, junk, cut) => {
        const bytes = encodeCheckpoint(cp);
        for (const input of [bytes.subarray(0, cut % bytes.length), Buffer.concat([bytes, junk.length ? junk : Buffer.from([0])]), Buffer.concat([Buffer.from([2, 1]), junk])]) {
          try {
            const d = decodeCheckpoint(input);
            expect(encodeCheckpoint(d)).toEqual(input);
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
          }
        }
      }),
    );
  });
});

describe('peekAuthor and peekSeq', () => {
  const arbCheckpoint = fc.record({ folder: arbFolder, author: arbFingerprint, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), entryHash: arbHash, signature: fc.uint8Array({ maxLength: 60 }) });

  it('say what the decoders say, for entries and checkpoints', () => {
    fc.assert(
      fc.property(arbEntry, arbCheckpoint, (e, cp) => {
        for (const [bytes, d] of [[encodeEntry(e), e], [encodeCheckpoint(cp), cp]] as const) {
          expect(peekAuthor(bytes)).toBe(d.author);
          expect(peekSeq(bytes)).toBe(d.seq);
        }
      }),
    );
  });

  it('never throw on truncated or random bytes', () => {
    fc.assert(
      fc.property(arbEntry, fc.uint8Array({ maxLength: 80 }), fc.nat(), (e, junk, cut) => {
        const bytes = encodeEntry(e);
        for (const input of [bytes.subarray(0, cut % bytes.length), junk]) {
          const author = peekAuthor(input);
          expect(author === '' || /^[0-9A-F]{40}$/.test(author)).toBe(true);
          const seq = peekSeq(input);
          expect(seq === undefined || Number.isSafeInteger(seq)).toBe(true);
        }
      }),
    );
  });

  it('sameAuthorBytes says whether two encodings claim one author, as peekAuthor reads them', () => {
    fc.assert(
      fc.property(arbEntry, arbEntry, fc.boolean(), (a, b, same) => {
        const x = encodeEntry(a);
        const y = encodeEntry(same ? { ...b, author: a.author } : b);
        expect(sameAuthorBytes(x, y)).toBe(peekAuthor(x) === peekAuthor(y));
        // Too short to hold an author: never the same, even as itself.
        expect(sameAuthorBytes(x.subarray(0, 10), x.subarray(0, 10))).toBe(false);
      }),
    );
  });
});

describe('decodeHashedEntry (meta built on first use)', () => {
  // A lazily decoded entry as plain data: its meta read through the getter.
  const plain = (e: Entry): Entry => ({ ...e, body: e.body.op === 'delete' ? { ...e.body } : e.body.op === 'put' ? { op: 'put', path: e.body.path, meta: e.body.meta } : { op: 'move', from: e.body.from, to: e.body.to, meta: e.body.meta } });
  const logVectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../vectors/log.json'), 'utf8')) as {
    entries: { name: string; bytes: string; hash: string }[];
    invalid: { name: string; bytes: string; error: string }[];
  };

  it('agrees with decodeEntry on the checked-in vectors', () => {
    for (const v of logVectors.entries) {
      const bytes = Buffer.from(v.bytes, 'hex');
      const he = decodeHashedEntry(bytes);
      expect(he.hash).toBe(v.hash);
      expect(plain(he.entry)).toEqual(decodeEntry(bytes));
    }
    for (const v of logVectors.invalid) {
      const bytes = Buffer.from(v.bytes, 'hex');
      expect([v.name, codeOf(() => decodeHashedEntry(bytes))]).toEqual([v.name, codeOf(() => decodeEntry(bytes))]);
    }
  });

  it('agrees with decodeEntry on random entries, and refuses with the same code what it refuses (one bit flipped, cut short)', () => {
    fc.assert(
      fc.property(arbEntry, fc.nat(), fc.integer({ min: 0, max: 7 }), (e, pos, bit) => {
        const bytes = encodeEntry(e);
        expect(plain(decodeHashedEntry(bytes).entry)).toEqual(e);
        const flipped = Buffer.from(bytes);
        flipped[pos % bytes.length] ^= 1 << bit;
        const cut = bytes.subarray(0, pos % bytes.length);
        for (const bad of [flipped, cut]) {
          const code = codeOf(() => decodeEntry(bad));
          expect(codeOf(() => decodeHashedEntry(bad))).toBe(code);
          if (code === 'OK') expect(plain(decodeHashedEntry(bad).entry)).toEqual(decodeEntry(bad));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
