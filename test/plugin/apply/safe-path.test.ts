// Paths from entries that would escape the folder are refused, and nothing is written outside it.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyState, ensureParents, LocalBlockSource, safePath, type ResolvedPath, type ResolvedVersion } from '../../../plugin/src/apply';
import type { FileMeta } from '../../../plugin/src/log';
import { FOLDER, listTree, MemoryBlockSource, metaOf, sandbox, sha256Hex, type Sandbox } from './helpers';

const put = (p: string, meta: FileMeta): ResolvedPath => ({ path: p, winner: { hash: sha256Hex(p), author: 'A'.repeat(40), wallTimeMs: 0, meta }, losers: [] });
const del = (p: string): ResolvedPath => ({ path: p, winner: { hash: sha256Hex(`del ${p}`), author: 'A'.repeat(40), wallTimeMs: 0 } as ResolvedVersion, losers: [] });
const link = (target: string): FileMeta => ({ type: 'symlink', size: 0, mode: 0o777, mtimeMs: 0, contentHash: sha256Hex(target), blocks: [], linkTarget: target });

describe('safe paths', () => {
  let box: Sandbox;
  let outside: string;
  beforeEach(async () => {
    box = await sandbox();
    outside = path.join(box.base, 'outside');
    await fsp.mkdir(outside);
    await fsp.writeFile(path.join(outside, 'victim.txt'), 'do not touch');
    await fsp.mkdir(path.join(box.root, 'real'));
    await fsp.symlink(outside, path.join(box.root, 'out'));
    await fsp.symlink('real', path.join(box.root, 'alias'));
  });
  afterEach(async () => {
    await box.close();
  });

  it.each([
    ['..', /DOTDOT_SEGMENT/],
    ['../escape.txt', /DOTDOT_SEGMENT/],
    ['a/../../escape.txt', /DOTDOT_SEGMENT/],
    ['/etc/passwd', /ABSOLUTE/],
    ['a\\..\\..\\x', /BACKSLASH/],
    ['', /EMPTY/],
    ['.kinfolder/versions/x', /kinfolder/],
    ['out/evil.txt', /out is a symlink/],
    ['alias/x.txt', /alias is a symlink/],
    ['out/deeper/evil.txt', /out is a symlink/],
  ])('%j is refused', async (rel, reason) => {
    await expect(safePath(box.root, rel)).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH', message: expect.stringMatching(reason) });
  });

  it('accepts clean paths under real directories, and .kinfolder only for bookkeeping', async () => {
    expect(await safePath(box.root, 'real/new/file.txt')).toBe(path.join(box.root, 'real', 'new', 'file.txt'));
    expect(await safePath(box.root, '.kinfolder/tmp/x', { meta: true })).toBe(path.join(box.root, '.kinfolder', 'tmp', 'x'));
    // The same root written otherwise (a trailing slash, a detour, relative) gives the same path.
    const verified = new Set<string>();
    for (const root of [`${box.root}/`, `${box.root}/real/..`, path.relative(process.cwd(), box.root)]) {
      expect(await safePath(root, 'real/new/file.txt')).toBe(path.join(box.root, 'real', 'new', 'file.txt'));
      expect(await safePath(root, 'real/f.txt', { verified })).toBe(path.join(box.root, 'real', 'f.txt'));
    }
    await expect(ensureParents(box.root, 'out/a/b.txt')).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH' });
    expect(await listTree(outside)).toEqual(['victim.txt']);
  });

  it('with a run\'s verified set, a directory is checked once, at the first file that asks, and links are still refused', async () => {
    const verified = new Set<string>();
    const first = safePath(box.root, 'real/a.txt', { verified });
    // Checked before the call returned: the files the run starts at the same moment find it checked.
    expect(verified.has('real')).toBe(true);
    const all = await Promise.all([first, ...Array.from({ length: 50 }, (_, i) => safePath(box.root, `real/f${i}.txt`, { verified }))]);
    expect(all[0]).toBe(path.join(box.root, 'real', 'a.txt'));
    expect([...verified]).toEqual(['real']);
    await expect(safePath(box.root, 'alias/x.txt', { verified })).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH' });
    await expect(ensureParents(box.root, 'out/a/b.txt', { verified })).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH' });
    expect(verified.has('alias') || verified.has('out')).toBe(false);
  });

  it('a path whose parent the run remembers is answered without a walk; under a parent it does not, a link is still refused', async () => {
    const verified = new Set<string>();
    await fsp.mkdir(path.join(box.root, 'real', 'deep'), { recursive: true });
    expect(await safePath(box.root, 'real/deep/a.txt', { verified })).toBe(path.join(box.root, 'real', 'deep', 'a.txt'));
    expect([...verified].sort()).toEqual(['real', 'real/deep']);
    // The walk is what refuses a link; a remembered parent vouches for the chain above it.
    expect(await ensureParents(box.root, 'real/deep/b.txt', { verified })).toEqual([]);
    await expect(safePath(box.root, 'alias/deep/x.txt', { verified })).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH' });
    // Lexical rules still hold on the short path.
    await expect(safePath(box.root, 'real/deep/../../x', { verified })).rejects.toMatchObject({ code: 'APPLY_UNSAFE_PATH' });
  });

  it('applyState refuses every escape and writes nothing outside the folder', async () => {
    const data = Buffer.from('payload');
    const meta = metaOf(data);
    await box.store.upsertLocalFiles([{ folder: FOLDER, path: 'out/victim.txt', size: 12, mtimeMs: 0, inode: 1, mode: 0o644, contentHash: sha256Hex('do not touch'), type: 'file' }]);
    const before = await listTree(box.base);
    const victimBefore = await fsp.lstat(path.join(outside, 'victim.txt'));
    const report = await applyState({
      root: box.root,
      folder: FOLDER,
      state: [
        put('../escape.txt', meta),
        put(path.join(box.base, 'abs.txt'), meta),
        put('out/evil.txt', meta),
        put('out/victim.txt', meta),
        put('alias/x.txt', meta),
        put('link-out', link('../outside')),
        put('real/link-up', link('../../outside/victim.txt')),
        put('link-abs', link('/etc')),
        del('out/victim.txt'),
        put('ok-link', link('real')),
      ],
      local: box.store,
      blocks: new MemoryBlockSource().addFile(data),
      clock: () => 0,
    });
    expect(report.applied.map((o) => o.path)).toEqual(['ok-link']);
    expect(report.refused.map((r) => r.path).sort()).toEqual(
      ['../escape.txt', path.join(box.base, 'abs.txt'), 'alias/x.txt', 'link-abs', 'link-out', 'out/evil.txt', 'out/victim.txt', 'out/victim.txt', 'real/link-up'].sort(),
    );
    expect(new Set(report.refused.map((r) => r.code))).toEqual(new Set(['APPLY_UNSAFE_PATH']));
    const after = await listTree(box.base);
    const outsideFolder = (l: string[]): string[] => l.filter((p) => !p.startsWith('folder/') && !p.startsWith('store.sqlite'));
    expect(outsideFolder(after)).toEqual(outsideFolder(before));
    expect(await fsp.readFile(path.join(outside, 'victim.txt'), 'utf8')).toBe('do not touch');
    expect((await fsp.lstat(path.join(outside, 'victim.txt'))).mtimeMs).toBe(victimBefore.mtimeMs);
    expect(await listTree(path.join(box.root, 'real'))).toEqual([]);
    expect(await fsp.readlink(path.join(box.root, 'ok-link'))).toBe('real');
  });

  it('the local block source does not read through a symlinked directory', async () => {
    const secret = Buffer.from('secret outside the folder');
    await fsp.writeFile(path.join(outside, 'secret.bin'), secret);
    const hash = sha256Hex(secret);
    await box.store.addBlockLocations([{ hash, size: secret.length, folder: FOLDER, path: 'out/secret.bin', offset: 0 }]);
    const source = new LocalBlockSource(box.store, () => box.root);
    expect(await source.read(hash, secret.length)).toBeUndefined();
  });
});
