import { execFileSync } from 'node:child_process';
import { appendFileSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { chunkBuffer } from '../../../plugin/src/scan/chunker';
import { hashFile, type HashFileFn } from '../../../plugin/src/scan/hash-file';
import { IgnoreRules } from '../../../plugin/src/scan/ignore';
import { EMPTY_SHA256, type LocalFileRecord, type ScannedFile, type ScanProblem } from '../../../plugin/src/scan/types';
import { linkEscapes, walkFolder, type WalkOptions } from '../../../plugin/src/scan/walk';
import { fileContentHash, makeTempDir, removeDir, seededBytes, sha256Hex } from './helpers';

interface WalkResult {
  files: Map<string, ScannedFile>;
  problems: ScanProblem[];
  hashed: string[];
}

async function walk(root: string, extra: Partial<WalkOptions> = {}): Promise<WalkResult> {
  const problems: ScanProblem[] = [];
  const hashed: string[] = [];
  // A counting stand-in around the real hasher: proves which files were read.
  const counting: HashFileFn = (abs, o) => {
    hashed.push(path.relative(root, abs).split(path.sep).join('/'));
    return hashFile(abs, o);
  };
  const files = new Map<string, ScannedFile>();
  for await (const f of walkFolder(root, { ignore: new IgnoreRules(), hashFile: counting, onProblem: (p) => problems.push(p), ...extra })) {
    expect(files.has(f.path)).toBe(false);
    files.set(f.path, f);
  }
  return { files, problems, hashed: hashed.sort() };
}

function knownFrom(files: Map<string, ScannedFile>): (p: string) => LocalFileRecord | undefined {
  return (p) => files.get(p);
}

describe('walkFolder', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(root);
  });

  async function write(rel: string, data: string | Buffer): Promise<void> {
    await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fsp.writeFile(path.join(root, rel), data);
  }

  it('reports files with their blocks, directories including empty ones, and mode bits', async () => {
    const big = seededBytes('walk-big', 700 * 1024);
    await write('a.txt', 'hello');
    await write('sub/deeper/big.bin', big);
    await fsp.mkdir(path.join(root, 'empty/nested-empty'), { recursive: true });
    await write('tool.sh', '#!/bin/sh\n');
    await fsp.chmod(path.join(root, 'tool.sh'), 0o755);
    await fsp.chmod(path.join(root, 'a.txt'), 0o644);

    const { files, problems } = await walk(root);
    expect(problems).toEqual([]);
    expect([...files.keys()].sort()).toEqual(['a.txt', 'empty', 'empty/nested-empty', 'sub', 'sub/deeper', 'sub/deeper/big.bin', 'tool.sh']);
    expect(files.get('a.txt')).toMatchObject({ type: 'file', size: 5, mode: 0o644, contentHash: fileContentHash('hello'), blocks: [{ hash: sha256Hex('hello'), size: 5 }] });
    expect(files.get('tool.sh')!.mode).toBe(0o755);
    expect(files.get('sub/deeper/big.bin')).toMatchObject({ type: 'file', size: big.length, contentHash: fileContentHash(big), blocks: chunkBuffer(big).blocks });
    expect(files.get('empty/nested-empty')).toMatchObject({ type: 'dir', size: 0, contentHash: EMPTY_SHA256, blocks: [] });
    const st = await fsp.lstat(path.join(root, 'a.txt'));
    expect(files.get('a.txt')).toMatchObject({ inode: st.ino, mtimeMs: Math.floor(st.mtimeMs) });
  });

  it('records symlinks with their target, never follows them, and flags those that leave the folder', async () => {
    const outside = await makeTempDir('kinfolder-outside-');
    try {
      await write('outside-secret.txt', 'no'); // a decoy inside, to be sure nothing resolves to it
      await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret');
      await write('docs/readme.md', 'r');
      await fsp.symlink('docs/readme.md', path.join(root, 'inside-link'));
      await fsp.symlink('../docs', path.join(root, 'docs/self-dir-link'));
      await fsp.symlink(outside, path.join(root, 'abs-link'));
      await fsp.symlink('../../escape', path.join(root, 'docs/rel-escape'));
      await fsp.symlink('missing-target', path.join(root, 'dangling'));

      const { files, problems, hashed } = await walk(root);
      expect(problems).toEqual([]);
      expect(files.get('inside-link')).toMatchObject({ type: 'symlink', size: 0, linkTarget: 'docs/readme.md', contentHash: sha256Hex('docs/readme.md'), blocks: [] });
      expect(files.get('inside-link')!.linkEscapes).toBeUndefined();
      expect(files.get('docs/self-dir-link')).toMatchObject({ type: 'symlink', linkTarget: '../docs' });
      expect(files.get('docs/self-dir-link')!.linkEscapes).toBeUndefined();
      expect(files.get('abs-link')).toMatchObject({ type: 'symlink', linkTarget: outside, linkEscapes: true });
      expect(files.get('docs/rel-escape')).toMatchObject({ type: 'symlink', linkEscapes: true });
      expect(files.get('dangling')).toMatchObject({ type: 'symlink', linkTarget: 'missing-target' });
      // Not followed: nothing under the directory links, and only real files were read.
      expect([...files.keys()].filter((p) => p.startsWith('abs-link/') || p.startsWith('docs/self-dir-link/'))).toEqual([]);
      expect(hashed).toEqual(['docs/readme.md', 'outside-secret.txt']);
    } finally {
      await removeDir(outside);
    }
  });

  it('does not re-read files unchanged in size, mtime and inode, and re-reads the others', async () => {
    await write('same.txt', 'unchanged');
    await write('edited.txt', 'version 1');
    await write('touched.txt', 'content');
    await write('replaced.txt', 'original');
    await write('dir/also-same.bin', seededBytes('same', 300 * 1024));

    const first = await walk(root);
    expect(first.hashed).toEqual(['dir/also-same.bin', 'edited.txt', 'replaced.txt', 'same.txt', 'touched.txt']);

    const second = await walk(root, { known: knownFrom(first.files) });
    expect(second.hashed).toEqual([]);
    expect(second.files).toEqual(first.files);

    await write('edited.txt', 'version 2 is longer');
    const t = new Date('2020-01-02T03:04:05Z');
    await fsp.utimes(path.join(root, 'touched.txt'), t, t);
    // Same size and mtime, new inode: only the inode tells it apart.
    const old = await fsp.lstat(path.join(root, 'replaced.txt'));
    await write('replaced.new', 'ORIGINAL');
    await fsp.utimes(path.join(root, 'replaced.new'), old.atime, old.mtime);
    await fsp.rename(path.join(root, 'replaced.new'), path.join(root, 'replaced.txt'));
    await fsp.chmod(path.join(root, 'same.txt'), 0o600); // mode alone: no re-read, new mode reported

    const third = await walk(root, { known: knownFrom(second.files) });
    expect(third.hashed).toEqual(['edited.txt', 'replaced.txt', 'touched.txt']);
    expect(third.files.get('edited.txt')!.contentHash).toBe(fileContentHash('version 2 is longer'));
    expect(third.files.get('replaced.txt')!.contentHash).toBe(fileContentHash('ORIGINAL'));
    expect(third.files.get('touched.txt')!.mtimeMs).toBe(t.getTime());
    expect(third.files.get('same.txt')).toMatchObject({ mode: 0o600, contentHash: fileContentHash('unchanged') });
  });

  it('skips ignored paths: built-ins, .kinfolder, nested .kinignore rules and manifest rules', async () => {
    await write('.kinfolder/tmp/partial', 'x');
    await write('.kinfolder/versions/a~1', 'x');
    await write('notes.txt.swp', 'x');
    await write('.DS_Store', 'x');
    await write('photo.sync-conflict-20240101-120000-ABCD.jpg', 'conflict copies are real files');
    await write('.kinignore', 'build/\n*.log\n');
    await write('build/out.js', 'x');
    await write('app.log', 'x');
    await write('proj/.kinignore', '!keep.log\n*.o\n');
    await write('proj/keep.log', 'kept');
    await write('proj/main.o', 'x');
    await write('proj/main.c', 'int main;');
    await write('other/main.o', 'outside proj');
    await write('disk.iso', 'x');

    const { files, hashed } = await walk(root, { ignore: new IgnoreRules(['*.iso']) });
    expect([...files.keys()].sort()).toEqual([
      '.kinignore',
      'other',
      'other/main.o',
      'photo.sync-conflict-20240101-120000-ABCD.jpg',
      'proj',
      'proj/.kinignore',
      'proj/keep.log',
      'proj/main.c',
    ]);
    expect(hashed).not.toContain('build/out.js');
  });

  it('reports names that are not NFC as problems and neither rewrites nor descends into them', async () => {
    const nfd = 'cafe\u0301';
    await write(`${nfd}.txt`, 'x');
    await write(`${nfd}-dir/inner.txt`, 'x');
    await write('fine.txt', 'x');
    const { files, problems } = await walk(root);
    expect([...files.keys()]).toEqual(['fine.txt']);
    expect(problems.map((p) => [p.path, p.code]).sort()).toEqual([
      [`${nfd}-dir`, 'NON_NFC_NAME'],
      [`${nfd}.txt`, 'NON_NFC_NAME'],
    ]);
    // Still on disk under its own name: reported, not mangled.
    expect((await fsp.readdir(root)).sort()).toEqual([`${nfd}-dir`, `${nfd}.txt`, 'fine.txt'].sort());
  });

  it('on a filesystem that folds Unicode spellings, shares a non-NFC name under its NFC path', async () => {
    const nfd = 'cafe\u0301';
    const nfc = 'caf\u00e9';
    await write(`${nfd}.txt`, 'accent');
    await write(`${nfd}-dir/inner.txt`, 'inside');
    await write(`twin-${nfd}`, 'nfd twin');
    await write(`twin-${nfc}`, 'nfc twin');
    const { files, problems } = await walk(root, { fsTraits: { caseInsensitive: true, normalizationInsensitive: true, windowsNames: false } });
    expect([...files.keys()].sort()).toEqual([`${nfc}-dir`, `${nfc}-dir/inner.txt`, `${nfc}.txt`, `twin-${nfc}`].sort());
    expect(files.get(`${nfc}.txt`)!.contentHash).toBe(fileContentHash('accent'));
    expect(files.get(`${nfc}-dir/inner.txt`)!.contentHash).toBe(fileContentHash('inside'));
    expect(files.get(`twin-${nfc}`)!.contentHash).toBe(fileContentHash('nfc twin'));
    expect(problems).toEqual([expect.objectContaining({ path: `twin-${nfc}`, code: 'NON_NFC_NAME' })]);
  });

  it('reports a name that is not valid UTF-8 instead of losing it', async () => {
    await fsp.writeFile(Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]), 'x');
    await write('good.txt', 'x');
    const { files, problems } = await walk(root);
    expect([...files.keys()]).toEqual(['good.txt']);
    expect(problems).toEqual([expect.objectContaining({ code: 'INVALID_NAME_ENCODING', path: expect.stringMatching(/^bad-/) })]);
  });

  it('reports a FIFO as unsupported without opening it', async () => {
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    await write('f.txt', 'x');
    const { files, problems } = await walk(root);
    expect([...files.keys()]).toEqual(['f.txt']);
    expect(problems).toEqual([expect.objectContaining({ path: 'pipe', code: 'UNSUPPORTED_TYPE' })]);
  });

  it('reports a file that changes while hashed as a problem, not as a file', async () => {
    await write('busy.bin', seededBytes('busy', 100));
    await write('calm.txt', 'calm');
    let appended = false;
    const changing: HashFileFn = (abs, o) =>
      hashFile(abs, {
        ...o,
        onProgress: () => {
          if (abs.endsWith('busy.bin') && !appended) {
            appended = true;
            appendFileSync(abs, 'x'); // lands before the next read: the size no longer matches
          }
        },
      });
    const problems: ScanProblem[] = [];
    const seen: string[] = [];
    for await (const f of walkFolder(root, { ignore: new IgnoreRules(), hashFile: changing, onProblem: (p) => problems.push(p) })) seen.push(f.path);
    expect(seen).toEqual(['calm.txt']);
    expect(problems).toEqual([expect.objectContaining({ path: 'busy.bin', code: 'FILE_CHANGED_DURING_SCAN' })]);
  });

  it('hashes at most `concurrency` large and `smallFileConcurrency` small files at once', async () => {
    for (let i = 0; i < 12; i++) await write(`small/f${i}.bin`, seededBytes(`c${i}`, 1000));
    for (let i = 0; i < 4; i++) await write(`large/f${i}.bin`, seededBytes(`l${i}`, 1024 * 1024 + 1));
    const active = { small: 0, large: 0 };
    const peak = { small: 0, large: 0 };
    const tracking: HashFileFn = async (abs, o) => {
      const kind = abs.includes(`${path.sep}small${path.sep}`) ? 'small' : 'large';
      active[kind]++;
      peak[kind] = Math.max(peak[kind], active[kind]);
      try {
        return await hashFile(abs, o);
      } finally {
        active[kind]--;
      }
    };
    const { files } = await walk(root, { hashFile: tracking, concurrency: 2, smallFileConcurrency: 3 });
    expect([...files.values()].filter((f) => f.type === 'file')).toHaveLength(16);
    expect(peak).toEqual({ small: 3, large: 2 });
  });

  it('stops with ABORTED when the signal fires, and cleans up when the consumer stops early', async () => {
    for (let i = 0; i < 50; i++) await write(`d${i % 5}/f${i}.txt`, `file ${i}`);
    const controller = new AbortController();
    const run = async (): Promise<number> => {
      let n = 0;
      for await (const _ of walkFolder(root, { ignore: new IgnoreRules(), signal: controller.signal })) {
        if (++n === 3) controller.abort();
      }
      return n;
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED' });

    let taken = 0;
    for await (const _ of walkFolder(root, { ignore: new IgnoreRules() })) {
      if (++taken === 2) break;
    }
    expect(taken).toBe(2);
  });

  it('fails with IO_ERROR when the root is not a directory', async () => {
    await write('plain', 'x');
    const it = walkFolder(path.join(root, 'plain'), { ignore: new IgnoreRules() });
    await expect(it.next()).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});

describe('linkEscapes', () => {
  it.each([
    ['a/link', 'b', false],
    ['a/link', '../b', false],
    ['a/link', '../../b', true],
    ['link', '..', true],
    ['link', '.', false],
    ['a/b/link', '../../x/../y', false],
    ['link', '/etc/passwd', true],
    ['link', 'C:\\Windows', true],
    ['link', '', true],
  ])('%s -> %s escapes: %s', (rel, target, expected) => {
    expect(linkEscapes(rel, target)).toBe(expected);
  });
});
