/** fast-check arbitraries of log domain objects (valid ones; tests corrupt them on purpose). */
import fc from 'fast-check';
import type { Entry, EntryBody, FileMeta } from '../../../plugin/src/log';

const hexOf = (n: number, digits: string): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...digits), minLength: n, maxLength: n });
export const arbHash = hexOf(64, '0123456789abcdef');
export const arbFingerprint = hexOf(40, '0123456789ABCDEF');
export const arbFolder = hexOf(32, '0123456789abcdef');
/** Any well-formed string, short: paths are validated elsewhere, the encoding takes any. */
export const arbText = fc.string({ unit: 'grapheme', maxLength: 40 });

export const arbMeta: fc.Arbitrary<FileMeta> = fc.oneof(
  fc.record({ hash: arbHash, mode: fc.integer({ min: 0, max: 0o7777 }), mtimeMs: fc.maxSafeNat(), sizes: fc.array(fc.integer({ min: 1, max: 2 ** 32 }), { maxLength: 5 }) }).map(
    ({ hash, mode, mtimeMs, sizes }): FileMeta => ({ type: 'file', size: sizes.reduce((a, b) => a + b, 0), mode, mtimeMs, contentHash: hash, blocks: sizes.map((size, i) => ({ hash: hash.slice(i) + hash.slice(0, i), size })) }),
  ),
  fc.record({ hash: arbHash, mode: fc.integer({ min: 0, max: 0o7777 }), mtimeMs: fc.maxSafeNat() }).map(({ hash, mode, mtimeMs }): FileMeta => ({ type: 'dir', size: 0, mode, mtimeMs, contentHash: hash, blocks: [] })),
  fc.record({ hash: arbHash, mode: fc.integer({ min: 0, max: 0o7777 }), mtimeMs: fc.maxSafeNat(), target: arbText }).map(
    ({ hash, mode, mtimeMs, target }): FileMeta => ({ type: 'symlink', size: 0, mode, mtimeMs, contentHash: hash, blocks: [], linkTarget: target }),
  ),
);

export const arbBody: fc.Arbitrary<EntryBody> = fc.oneof(
  fc.record({ path: arbText, meta: arbMeta }).map(({ path, meta }): EntryBody => ({ op: 'put', path, meta })),
  arbText.map((path): EntryBody => ({ op: 'delete', path })),
  fc.record({ from: arbText, to: arbText, meta: arbMeta }).map(({ from, to, meta }): EntryBody => ({ op: 'move', from, to, meta })),
);

export const arbEntry: fc.Arbitrary<Entry> = fc
  .record({
    folder: arbFolder,
    author: arbFingerprint,
    seq: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER })),
    prev: arbHash,
    lamport: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    wallTimeMs: fc.maxSafeNat(),
    parents: fc.uniqueArray(arbHash, { maxLength: 4 }),
    body: arbBody,
  })
  .map((r): Entry => ({ ...r, prev: r.seq === 1 ? null : r.prev, parents: [...r.parents].sort() }));
