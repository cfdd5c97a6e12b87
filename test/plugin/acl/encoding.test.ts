import fc from 'fast-check';
import { AclError, decodeManifest, decodeSignedManifest, encodeManifest, encodeSignedManifest, manifestHash, type EarlierGrant, type ManifestVersion, type Member } from '../../../plugin/src/acl';
import { DecodeError } from '../../../plugin/src/log';
import { arbFingerprint, arbFolder, arbHash, arbText } from '../log/arbitraries';

const arbRole = fc.constantFrom('admin', 'writer', 'reader') as fc.Arbitrary<Member['role']>;
const withPrefixes = <T extends { role: Member['role'] }>(g: T, prefixes: string[]): T => (g.role === 'writer' && prefixes.length > 0 ? { ...g, pathPrefixes: [...prefixes].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) } : g);
const arbEarlier: fc.Arbitrary<EarlierGrant[]> = fc
  .array(fc.record({ untilSeq: fc.maxSafeNat(), role: arbRole, prefixes: fc.uniqueArray(arbText, { maxLength: 2 }) }), { maxLength: 3 })
  .map((list) => list.map(({ prefixes, ...g }) => withPrefixes(g, prefixes)).sort((a, b) => a.untilSeq - b.untilSeq));
const arbMember: fc.Arbitrary<Member> = fc
  .record({ fingerprint: arbFingerprint, name: arbText, publicKeyArmored: arbText, role: arbRole, prefixes: fc.uniqueArray(arbText, { maxLength: 3 }), earlier: fc.oneof(fc.constant([]), arbEarlier) })
  .map(({ prefixes, earlier, ...m }) => withPrefixes(earlier.length > 0 ? { ...m, earlier } : m, prefixes));

const arbManifest: fc.Arbitrary<ManifestVersion> = fc
  .record({
    folder: arbFolder,
    name: arbText,
    version: fc.integer({ min: 1, max: 1000 }),
    prev: arbHash,
    author: arbFingerprint,
    createdAtMs: fc.maxSafeNat(),
    members: fc.uniqueArray(arbMember, { selector: (m) => m.fingerprint, maxLength: 4 }),
    revocations: fc.uniqueArray(fc.record({ fingerprint: arbFingerprint, lastValidSeq: fc.maxSafeNat() }), { selector: (r) => r.fingerprint, maxLength: 3 }),
    ignoreRules: fc.array(arbText, { maxLength: 3 }),
  })
  .map((m) => ({
    ...m,
    prev: m.version === 1 ? null : m.prev,
    members: [...m.members].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)),
    revocations: [...m.revocations].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)),
  }));

const code = (f: () => unknown): string => {
  try {
    f();
    return 'OK';
  } catch (err) {
    if (err instanceof DecodeError || err instanceof AclError) return err.code;
    throw err;
  }
};

describe('manifest encoding', () => {
  it('round-trips every valid manifest, signed or not, to the same bytes and hash', () => {
    fc.assert(
      fc.property(arbManifest, fc.uint8Array({ maxLength: 300 }), (m, sig) => {
        const bytes = encodeManifest(m);
        expect([bytes[0], bytes[1]]).toEqual([3, 1]);
        expect(decodeManifest(bytes)).toEqual(m);
        expect(encodeManifest(decodeManifest(bytes))).toEqual(bytes);
        const signed = encodeSignedManifest({ manifest: m, signature: sig });
        const d = decodeSignedManifest(signed);
        expect(d.hash).toBe(manifestHash(m));
        expect(Buffer.from(d.signature)).toEqual(Buffer.from(sig));
        expect(encodeSignedManifest(d)).toEqual(signed);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses unsorted or repeated members, prefixes on non-writers, unsorted prefixes', () => {
    const a: Member = { fingerprint: 'A'.repeat(40), name: 'a', publicKeyArmored: 'k', role: 'admin' };
    const b: Member = { fingerprint: 'B'.repeat(40), name: 'b', publicKeyArmored: 'k', role: 'writer', pathPrefixes: ['x', 'y'] };
    const m: ManifestVersion = { folder: '0'.repeat(32), name: 'n', version: 1, prev: null, author: a.fingerprint, createdAtMs: 0, members: [a, b], revocations: [], ignoreRules: [] };
    expect(code(() => encodeManifest(m))).toBe('OK');
    expect(code(() => encodeManifest({ ...m, members: [b, a] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, members: [a, a] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, members: [{ ...a, pathPrefixes: ['x'] }, b] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, members: [a, { ...b, pathPrefixes: ['y', 'x'] }] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, version: 2 }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, author: 'a'.repeat(40) }))).toBe('ACL_INVALID_MANIFEST');
    // The decoder refuses the same things when they arrive as bytes.
    const bytes = encodeManifest(m);
    const swapped = Buffer.from(bytes);
    const at = bytes.indexOf(Buffer.from('A'.repeat(40), 'hex'), 40);
    Buffer.from('C'.repeat(40), 'hex').copy(swapped, at);
    expect(code(() => decodeManifest(swapped))).toBe('DECODE_UNSORTED');
    const dup = Buffer.from(bytes);
    Buffer.from('B'.repeat(40), 'hex').copy(dup, at);
    expect(code(() => decodeManifest(dup))).toBe('DECODE_DUPLICATE');
  });

  it('earlier grants: absent or empty keeps the old bytes; out of order, empty or for non-members is refused both ways', () => {
    const a: Member = { fingerprint: 'A'.repeat(40), name: 'a', publicKeyArmored: 'k', role: 'admin' };
    const b: Member = { fingerprint: 'B'.repeat(40), name: 'b', publicKeyArmored: 'k', role: 'writer', pathPrefixes: ['docs'] };
    const m: ManifestVersion = { folder: '0'.repeat(32), name: 'n', version: 1, prev: null, author: a.fingerprint, createdAtMs: 0, members: [a, b], revocations: [], ignoreRules: [] };
    const plain = encodeManifest(m);
    expect(encodeManifest({ ...m, members: [{ ...a, earlier: [] }, b] })).toEqual(plain);
    const narrowed = { ...m, members: [a, { ...b, earlier: [{ untilSeq: 5, role: 'writer' as const }, { untilSeq: 5, role: 'writer' as const, pathPrefixes: ['docs', 'src'] }] }] };
    const bytes = encodeManifest(narrowed);
    expect(bytes.subarray(0, plain.length)).toEqual(plain); // the section trails the old layout
    expect(decodeManifest(bytes)).toEqual(narrowed);
    expect(code(() => encodeManifest({ ...m, members: [a, { ...b, earlier: [{ untilSeq: 5, role: 'writer' }, { untilSeq: 4, role: 'writer' }] }] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, members: [a, { ...b, earlier: [{ untilSeq: 5, role: 'reader', pathPrefixes: ['x'] }] }] }))).toBe('ACL_INVALID_MANIFEST');
    expect(code(() => encodeManifest({ ...m, members: [a, { ...b, earlier: Array.from({ length: 257 }, () => ({ untilSeq: 1, role: 'writer' as const })) }] }))).toBe('ACL_INVALID_MANIFEST');
    // As bytes: an empty section, a section naming no member, grants out of order, a repeated member.
    const tail = bytes.subarray(plain.length);
    expect(code(() => decodeManifest(Buffer.concat([plain, Buffer.from([0])])))).toBe('DECODE_OUT_OF_RANGE');
    const stranger = Buffer.from(tail);
    Buffer.from('C'.repeat(40), 'hex').copy(stranger, 1);
    expect(code(() => decodeManifest(Buffer.concat([plain, stranger])))).toBe('DECODE_BAD_VALUE');
    const backwards = Buffer.from(tail);
    backwards[1 + 20 + 1] = 6; // first untilSeq 5 -> 6, above the second
    expect(code(() => decodeManifest(Buffer.concat([plain, backwards])))).toBe('DECODE_UNSORTED');
    const twice = Buffer.concat([Buffer.from([2]), tail.subarray(1), tail.subarray(1)]);
    expect(code(() => decodeManifest(Buffer.concat([plain, twice])))).toBe('DECODE_DUPLICATE');
  });

  it('never throws anything but DecodeError on random, truncated or extended bytes', () => {
    fc.assert(
      fc.property(arbManifest, fc.uint8Array({ maxLength: 200 }), fc.nat(), (m, junk, cut) => {
        const bytes = encodeManifest(m);
        const signed = encodeSignedManifest({ manifest: m, signature: junk });
        const inputs = [bytes.subarray(0, cut % bytes.length), Buffer.concat([bytes, Buffer.from([0])]), Buffer.concat([bytes, junk]), Buffer.concat([Buffer.from([3, 1]), junk]), signed.subarray(0, cut % signed.length), Buffer.from(junk)];
        for (const input of inputs) {
          for (const decode of [decodeManifest, decodeSignedManifest]) {
            try {
              const d = decode(input);
              if (decode === decodeManifest) expect(encodeManifest(d as ManifestVersion)).toEqual(input);
            } catch (err) {
              expect(err).toBeInstanceOf(DecodeError);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
