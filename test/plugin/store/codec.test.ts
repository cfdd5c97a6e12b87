import { randomBytes } from 'node:crypto';
import { checkHash, hashToBlob, writeHash } from '../../../plugin/src/store/codec';
import { isStoreError } from '../../../plugin/src/store';

describe('store codec: hashes', () => {
  const good = randomBytes(32).toString('hex');
  const bad: unknown[] = [
    good.toUpperCase(),
    good.slice(1),
    `${good}0`,
    `${good.slice(0, 63)}g`,
    `${good.slice(0, 63)}\u0130`, // a code unit whose low byte is a hex digit's
    `${good.slice(0, 62)}\u{1F600}`,
    '',
    null,
    42,
  ];

  test('a lower-case 64-digit hash passes and writes as its 32 bytes', () => {
    for (let i = 0; i < 50; i++) {
      const h = randomBytes(32).toString('hex');
      expect(checkHash(h, 'h')).toBe(h);
      expect(hashToBlob(h, 'h')).toEqual(Buffer.from(h, 'hex'));
      const out = Buffer.alloc(40);
      writeHash(h, out, 4, 'h');
      expect(out.subarray(4, 36)).toEqual(Buffer.from(h, 'hex'));
    }
  });

  test.each(bad.map((b) => [JSON.stringify(b), b]))('%s is refused with STORE_INVALID_ARGUMENT by every check', (_, b) => {
    for (const f of [() => checkHash(b as string, 'h'), () => hashToBlob(b as string, 'h'), () => writeHash(b as string, Buffer.alloc(32), 0, 'h')]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isStoreError(err, 'STORE_INVALID_ARGUMENT')).toBe(true);
    }
  });
});
