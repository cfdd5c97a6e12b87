import type { Stats } from 'node:fs';
import { JustWritten } from '../../../plugin/src/folder/just-written';
import type { LocalFileRecord } from '../../../plugin/src/store';

const row = (path: string, over: Partial<LocalFileRecord> = {}): LocalFileRecord => ({ folder: 'f', path, size: 5, mtimeMs: 1000, inode: 7, mode: 0o644, contentHash: 'ab'.repeat(32), type: 'file', ...over });
const stat = (over: Partial<Stats> = {}): Stats => ({ size: 5, mtimeMs: 1000.4, ino: 7, mode: 0o100644, ...over }) as Stats;

test('a file matches once, with the stat apply recorded (mtime to the ms, permission bits); anything else does not', () => {
  const j = new JustWritten();
  j.add([row('a'), row('b'), row('c'), row('d'), row('e')]);
  expect(j.matches('a', stat())).toBe(true);
  expect(j.matches('a', stat())).toBe(false); // asked once
  expect(j.matches('b', stat({ size: 6 }))).toBe(false);
  expect(j.matches('c', stat({ mtimeMs: 1001 }))).toBe(false);
  expect(j.matches('d', stat({ ino: 8 }))).toBe(false);
  expect(j.matches('e', stat({ mode: 0o100600 }))).toBe(false);
  expect(j.matches('never', stat())).toBe(false);
});

test('directories, links and records without a hash are never vouched for; a later record replaces an earlier one', () => {
  const j = new JustWritten();
  j.add([row('d', { type: 'dir', size: 0 }), row('l', { type: 'symlink' }), row('h', { contentHash: null }), row('x')]);
  j.add([row('x', { contentHash: null })]);
  for (const p of ['d', 'l', 'h', 'x']) expect(j.matches(p, stat())).toBe(false);
});

test('holds at most 16,384 files, forgetting the oldest', () => {
  const j = new JustWritten();
  j.add(Array.from({ length: 16_385 }, (_, i) => row(`p${i}`)));
  expect(j.matches('p0', stat())).toBe(false);
  expect(j.matches('p1', stat())).toBe(true);
  expect(j.matches('p16384', stat())).toBe(true);
});
