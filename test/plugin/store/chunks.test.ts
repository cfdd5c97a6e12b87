import fc from 'fast-check';
import { decodeChunk, encodeChunk, encodedRow } from '../../../plugin/src/store/chunks';
import type { EntryRecord } from '../../../plugin/src/store';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
// Any text: quotes, backslashes, control characters, non-ASCII and lone surrogates among them.
const text = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('a/b.txt', 'x"y', 'x\\y', 'é/ü', '\u{1F600}', '\ud800'));
const item = fc.record({
  hash: hex64,
  lamport: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  paths: fc.array(text, { minLength: 1, maxLength: 2 }),
  parents: fc.uniqueArray(hex64, { maxLength: 3 }).map((l) => l.sort()),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  linked: fc.boolean(),
  other: hex64,
});

describe('encodeChunk', () => {
  it('writes meta as exactly the JSON text of its items and the hash keys as their digits, and decodes back to the records', () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), fc.boolean(), (items, first) => {
        const records: EntryRecord[] = [];
        items.forEach((x, i) => {
          const prev = i === 0 ? (first ? null : x.other) : x.linked ? items[i - 1].hash : x.other;
          records.push({ folder: 'f', author: 'A', seq: 7 + i, hash: x.hash, prev, lamport: x.lamport, paths: x.paths, parents: x.parents, bytes: x.bytes });
        });
        let end = 0;
        const expected = records.map((e, i) => {
          end += e.bytes.length;
          return i === 0 || e.prev !== records[i - 1].hash ? [e.lamport, e.paths, e.parents, end, e.prev] : [e.lamport, e.paths, e.parents, end];
        });
        const c = encodeChunk(records);
        expect(c.meta).toEqual(Buffer.from(JSON.stringify(expected), 'utf8'));
        expect(c.keys.toString('latin1')).toBe(records.map((r) => parseInt(r.hash.slice(0, 13), 16)).join(','));
        expect(decodeChunk('f', 'A', encodedRow(c), 0, Infinity)).toEqual(records);
      }),
      { numRuns: 500 },
    );
  });
});
