import * as fc from 'fast-check';
import { decodeMessage, encodeMessage, isSyncError, MAX_MESSAGE_BYTES, type SyncMessage } from '../../../plugin/src/sync';

const hex = (bytes: number, upper = false) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => (upper ? Buffer.from(b).toString('hex').toUpperCase() : Buffer.from(b).toString('hex')));
const folder = hex(16);
const hash = hex(32);
const blob = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
const vector = fc
  .uniqueArray(fc.record({ author: hex(20, true), seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), head: hash }), { selector: (e) => e.author, maxLength: 6 })
  .map((es) => es.sort((a, b) => (a.author < b.author ? -1 : 1)));

const message: fc.Arbitrary<SyncMessage> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), protocolVersion: fc.integer({ min: 0, max: 0xffff }), folders: fc.uniqueArray(folder, { maxLength: 5 }).map((f) => f.sort()) }),
  fc.record({ kind: fc.constant('manifest' as const), folder, head: hash, chain: fc.array(blob, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('vector' as const), folder, entries: vector }),
  fc.record({ kind: fc.constant('entries' as const), folder, entries: fc.array(blob, { maxLength: 6 }), checkpoints: fc.array(blob, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('entries' as const), folder, entries: fc.array(blob, { maxLength: 6 }), checkpoints: fc.array(blob, { maxLength: 3 }), more: fc.constant(true as const) }),
  fc.record({ kind: fc.constant('caught-up' as const), folder, vector }),
  fc.record({ kind: fc.constant('block-request' as const), id: fc.nat(), hash, size: fc.integer({ min: 0, max: MAX_MESSAGE_BYTES - 64 }) }),
  fc.record({ kind: fc.constant('block-reply' as const), id: fc.nat(), hash }),
  fc.record({ kind: fc.constant('block-reply' as const), id: fc.nat(), hash, data: blob }),
  fc.record({ kind: fc.constant('refusal' as const), folder, code: fc.string({ maxLength: 20 }), message: fc.string({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant('presence' as const), folder, paths: fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }) }),
);

const malformedCode = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return isSyncError(e) ? e.code : `not a SyncError: ${String(e)}`;
  }
};

test('every message decodes back to itself, and re-encodes to the same bytes', () => {
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encodeMessage(m);
      const back = decodeMessage(bytes);
      expect(back).toEqual(m);
      expect(Buffer.compare(encodeMessage(back), bytes)).toBe(0);
    }),
    { numRuns: 2000 },
  );
});

test('random bytes never throw anything but SyncError(SYNC_MALFORMED)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      const code = malformedCode(() => decodeMessage(b));
      if (code !== undefined) expect(code).toBe('SYNC_MALFORMED');
    }),
    { numRuns: 5000 },
  );
});

test('mutated valid messages decode to a valid message or throw SYNC_MALFORMED only', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (m, at, byte, cut) => {
      const bytes = Buffer.from(encodeMessage(m));
      bytes[at % bytes.length] = byte;
      for (const b of [bytes, bytes.subarray(0, cut % bytes.length)]) {
        const code = malformedCode(() => {
          const d = decodeMessage(b);
          // Whatever decodes is canonical: it encodes back to exactly these bytes.
          expect(Buffer.compare(encodeMessage(d), b)).toBe(0);
        });
        if (code !== undefined) expect(code).toBe('SYNC_MALFORMED');
      }
    }),
    { numRuns: 3000 },
  );
});

test('specific refusals: unknown kind, trailing bytes, lying counts, unsorted vectors, oversize', () => {
  const ok = encodeMessage({ kind: 'vector', folder: '00'.repeat(16), entries: [] });
  expect(malformedCode(() => decodeMessage(Buffer.from([0]))) ).toBe('SYNC_MALFORMED');
  expect(malformedCode(() => decodeMessage(Buffer.from([9, 1, 2])))).toBe('SYNC_MALFORMED');
  expect(malformedCode(() => decodeMessage(Buffer.alloc(0)))).toBe('SYNC_MALFORMED');
  expect(malformedCode(() => decodeMessage(Buffer.concat([ok, Buffer.from([0])])))).toBe('SYNC_MALFORMED');
  // A vector claiming a million entries in a few bytes: refused before anything is allocated.
  const lying = Buffer.concat([ok.subarray(0, 17), Buffer.from([0xc0, 0x84, 0x3d])]);
  expect(malformedCode(() => decodeMessage(lying))).toBe('SYNC_MALFORMED');
  const a = { author: 'B'.repeat(40), seq: 1, head: '0'.repeat(64) };
  const b = { author: 'A'.repeat(40), seq: 1, head: '0'.repeat(64) };
  expect(malformedCode(() => encodeMessage({ kind: 'vector', folder: '00'.repeat(16), entries: [a, b] }))).toBe('SYNC_ENCODE_INVALID');
  const unsorted = Buffer.concat([encodeMessage({ kind: 'vector', folder: '00'.repeat(16), entries: [b, a] }).subarray(0, 17), Buffer.from([2])]);
  const entry = (e: typeof a) => Buffer.concat([Buffer.from(e.author, 'hex'), Buffer.from([1]), Buffer.from(e.head, 'hex')]);
  expect(malformedCode(() => decodeMessage(Buffer.concat([unsorted, entry(a), entry(b)])))).toBe('SYNC_MALFORMED');
  expect(malformedCode(() => decodeMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 4)))).toBe('SYNC_MALFORMED');
  const huge = Buffer.alloc(MAX_MESSAGE_BYTES);
  expect(malformedCode(() => encodeMessage({ kind: 'entries', folder: '00'.repeat(16), entries: [huge], checkpoints: [] }))).toBe('SYNC_ENCODE_INVALID');
  expect(malformedCode(() => encodeMessage({ kind: 'hello', protocolVersion: 1, folders: ['not hex'] }))).toBe('SYNC_ENCODE_INVALID');
});

test("EntryBatch's `more` (version 3): absent when false, so a version-2 batch is the same bytes; only a trailing 1 is allowed", () => {
  const base = { kind: 'entries' as const, folder: 'ab'.repeat(16), entries: [Buffer.from('e1')], checkpoints: [Buffer.from('c1')] };
  const plain = encodeMessage(base);
  expect(Buffer.compare(encodeMessage({ ...base, more: false }), plain)).toBe(0);
  const more = encodeMessage({ ...base, more: true });
  expect(Buffer.compare(more, Buffer.concat([plain, Buffer.from([1])]))).toBe(0);
  expect(decodeMessage(more)).toEqual({ ...base, more: true });
  expect(decodeMessage(plain)).toEqual(base);
  for (const tail of [[0], [2], [1, 0], [1, 1]]) expect(malformedCode(() => decodeMessage(Buffer.concat([plain, Buffer.from(tail)])))).toBe('SYNC_MALFORMED');
});
