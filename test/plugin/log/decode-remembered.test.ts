import { decodeEntry, encodeEntry } from '../../../plugin/src/log/encoding';
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
