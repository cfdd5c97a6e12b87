import fc from 'fast-check';
import { MAX_SEGMENT_BYTES, MAX_SEGMENTS, pathProblem, pathProblemSlow } from '../../../plugin/src/log/path';

// pathProblem answers printable-ASCII paths in one pass; it must agree with the full checks everywhere.
describe('pathProblem fast path', () => {
  const alphabet = ['a', 'B', '.', '/', '\\', '\u0001', '\u007f', '\u0000', 'é', 'e\u0301', ' ', '.kinfolder', '.KinFolder', '..'];

  it('agrees with the full checks on random paths built from tricky pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }), (parts) => {
        const p = parts.join('');
        expect(pathProblem(p)).toBe(pathProblemSlow(p));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees on the length and depth limits', () => {
    const long = 'x'.repeat(MAX_SEGMENT_BYTES);
    for (const p of [long, `${long}x`, `a/${long}x/b`, Array(MAX_SEGMENTS).fill('d').join('/'), Array(MAX_SEGMENTS + 1).fill('d').join('/'), 'y'.repeat(4097), `${'z/'.repeat(100)}f`]) {
      expect(pathProblem(p)).toBe(pathProblemSlow(p));
    }
    expect(pathProblem(`${long}x`)).toBe('SEGMENT_TOO_LONG');
    expect(pathProblem(Array(MAX_SEGMENTS + 1).fill('d').join('/'))).toBe('TOO_DEEP');
    expect(pathProblem('.kinfolder/x')).toBe('RESERVED');
    expect(pathProblem('docs/a.txt')).toBeNull();
  });
});
