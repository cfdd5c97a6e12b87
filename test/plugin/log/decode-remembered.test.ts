import { decodeEntry, decodeHashedEntry, encodeEntry, hashEntry } from '../../../plugin/src/log/encoding';
import type { Entry } from '../../../plugin/src/log';

// The decoder remembers the last folder and author it converted; alternating feeds must still decode to their own.
describe('decodeEntry with remembered folder and author', () => {
  const entry = (folder: string, author: string, seq: number): Entry => ({
    folder,
    author,
    seq,
    prev: seq === 1 ? null : 'ab'.repeat(32),
    lamport: seq,
    wallTimeMs: 1000,
    parents: [],
    body: { op: 'delete', path: `f${seq}` },
  });

  it('decodes alternating folders and authors, including ones that differ in the last byte only', () => {
    const folders = ['00'.repeat(16), `${'00'.repeat(15)}01`, 'ff'.repeat(16)];
    const authors = ['AA'.repeat(20), `${'AA'.repeat(19)}AB`, '0123456789ABCDEF0123456789ABCDEF01234567'];
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      const e = entry(folders[i % 3], authors[(i * 7) % 3], 1 + (i % 4));
      const d = decodeEntry(encodeEntry(e));
      expect(d.folder).toBe(e.folder);
      expect(d.author).toBe(e.author);
      seen.push(`${d.folder}/${d.author}`);
    }
    expect(new Set(seen).size).toBe(3);
  });

  it('does not alias the remembered bytes to the caller buffer', () => {
    const bytes = encodeEntry(entry('12'.repeat(16), 'CD'.repeat(20), 1));
    expect(decodeEntry(bytes).author).toBe('CD'.repeat(20));
    bytes.fill(0x34, 2, 2 + 16 + 20); // overwrite folder and author in place
    const d = decodeEntry(bytes);
    expect(d.folder).toBe('34'.repeat(16));
    expect(d.author).toBe('34'.repeat(20));
  });
});

// decodeHashedEntry takes an entry's prev to be the hash it decoded just before, when the bytes say so.
describe('decodeHashedEntry with the hash decoded before it as the likely prev', () => {
  const chain = (n: number, folder = '0f'.repeat(16), author = 'BC'.repeat(20)): { bytes: Buffer; hash: string }[] => {
    const out: { bytes: Buffer; hash: string }[] = [];
    let prev: string | null = null;
    for (let seq = 1; seq <= n; seq++) {
      const he = hashEntry({ folder, author, seq, prev, lamport: seq, wallTimeMs: 1000 + seq, parents: [], body: { op: 'delete', path: `f${seq}` } });
      out.push({ bytes: he.bytes as Buffer, hash: he.hash });
      prev = he.hash;
    }
    return out;
  };

  it('reads every prev right, in order (the same string as the hash before), out of order and across feeds', () => {
    const a = chain(6);
    const b = chain(6, '0f'.repeat(16), 'CD'.repeat(20));
    const inOrder = a.map((x) => decodeHashedEntry(x.bytes));
    inOrder.forEach((he, i) => {
      expect(he.entry.prev).toBe(i === 0 ? null : a[i - 1].hash);
      expect(he.entry).toEqual(decodeEntry(a[i].bytes));
    });
    // The same string, not an equal copy: later chain checks compare it with itself.
    expect(Object.is(inOrder[3].entry.prev, inOrder[2].hash)).toBe(true);
    for (const i of [5, 1, 4, 0, 3, 2]) {
      for (const x of [a[i], b[i]]) expect(decodeHashedEntry(x.bytes).entry).toEqual(decodeEntry(x.bytes));
    }
  });

  it('a prev that differs from the hash before it in one byte only is read as it is', () => {
    const a = chain(3);
    const before = decodeHashedEntry(a[1].bytes).hash;
    const forged = Buffer.from(a[2].bytes);
    const prevAt = 2 + 16 + 20 + 1; // kind, version, folder, author, seq (1 byte)
    expect(forged.subarray(prevAt, prevAt + 32).toString('hex')).toBe(before);
    forged[prevAt + 31] ^= 1;
    const d = decodeHashedEntry(forged);
    expect(d.entry.prev).not.toBe(before);
    expect(d.entry.prev).toBe(decodeEntry(forged).prev);
  });
});
