// Kept versions: overwrite and delete keep the old bytes, restore brings them back, retention removes only what its rule says.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { applyState, parseVersionName, versionName, Versions } from '../../../plugin/src/apply';
import { ALICE, Author, BOB, FOLDER, MemoryBlockSource, metaOf, read, sandbox, stateOf, writeAndScan, type Sandbox } from './helpers';

const T0 = Date.UTC(2026, 10, 21, 10, 15, 0);
const DAY = 86_400_000;

describe('version names', () => {
  it('keep the extension last, like Syncthing, and parse back', () => {
    expect(versionName('docs/report.pdf', T0)).toBe('docs/report~20261121-101500.pdf');
    expect(versionName('report.tar.gz', T0, 2)).toBe('report.tar~20261121-101500-2.gz');
    expect(versionName('.bashrc', T0)).toBe('.bashrc~20261121-101500');
    expect(versionName('Makefile', T0 + 1999)).toBe('Makefile~20261121-101501');
    for (const [p, n] of [['docs/report.pdf', 0], ['report.tar.gz', 2], ['.bashrc', 0], ['a~20200101-000000.txt', 3]] as const) {
      expect(parseVersionName(versionName(p, T0, n))).toEqual({ path: p, keptAtMs: T0, counter: n });
    }
    // A name near the 255-byte limit loses the end of its stem, never the extension.
    const long = `${'é'.repeat(124)}.txt`;
    const v = versionName(`d/${long}`, T0).slice(2);
    expect(Buffer.byteLength(v)).toBeLessThanOrEqual(255);
    expect(v.endsWith('~20261121-101500.txt')).toBe(true);
    expect(parseVersionName('notes.txt')).toBeUndefined();
    expect(parseVersionName('x~2026112-101500.txt')).toBeUndefined();
  });
});

describe('Versions', () => {
  let box: Sandbox;
  let now: number;
  const clock = (): number => now;
  beforeEach(async () => {
    box = await sandbox();
    now = T0;
  });
  afterEach(async () => {
    await box.close();
  });

  it('overwrite and delete keep the old bytes; restore brings them back and keeps what it replaces', async () => {
    const v1 = Buffer.from('first draft\n');
    const v2 = Buffer.from('second draft, from bob\n');
    const m1 = await writeAndScan(box.store, FOLDER, box.root, 'docs/plan.md', v1);
    const alice = new Author(ALICE);
    const bob = new Author(BOB);
    const a1 = alice.put('docs/plan.md', m1);
    const b1 = bob.put('docs/plan.md', metaOf(v2), [a1]);
    const apply = (...es: ReturnType<Author['put']>[]) =>
      applyState({ root: box.root, folder: FOLDER, ...stateOf(...es), local: box.store, blockIndex: box.store, blocks: new MemoryBlockSource().addFile(v2), clock });

    const r1 = await apply(a1, b1);
    expect(r1.applied).toEqual([{ kind: 'written', path: 'docs/plan.md', version: 'docs/plan~20261121-101500.md' }]);
    const versions = new Versions(box.root, { clock });
    expect((await versions.listVersions('docs/plan.md')).map((v) => v.version)).toEqual(['docs/plan~20261121-101500.md']);
    expect((await fsp.readFile(path.join(box.root, '.kinfolder', 'versions', 'docs', 'plan~20261121-101500.md'))).equals(v1)).toBe(true);

    now += 60_000;
    const d1 = alice.delete('docs/plan.md', [b1]);
    const r2 = await apply(a1, b1, d1);
    expect(r2.applied).toEqual([{ kind: 'deleted', path: 'docs/plan.md', version: 'docs/plan~20261121-101600.md' }]);
    await expect(fsp.lstat(path.join(box.root, 'docs', 'plan.md'))).rejects.toThrow(/ENOENT/);
    const kept = await versions.listVersions('docs/plan.md');
    expect(kept.map((v) => [v.version, v.size])).toEqual([
      ['docs/plan~20261121-101600.md', v2.length],
      ['docs/plan~20261121-101500.md', v1.length],
    ]);

    // Restore the first draft: the bytes come back at the path.
    now += 60_000;
    const restored = await versions.restoreVersion('docs/plan.md', 'docs/plan~20261121-101500.md');
    expect((await read(box.root, 'docs/plan.md')).equals(v1)).toBe(true);
    // What the caller needs to record the restore as a new entry.
    expect(restored).toMatchObject({ path: 'docs/plan.md', replaced: undefined, meta: { type: 'file', size: v1.length, contentHash: metaOf(v1).contentHash, blocks: metaOf(v1).blocks } });
    // Restoring again over it keeps the restored copy as a version too: nothing is lost.
    now += 60_000;
    const again = await versions.restoreVersion('docs/plan.md', 'docs/plan~20261121-101600.md');
    expect(again.replaced).toBe('docs/plan~20261121-101800.md');
    expect((await read(box.root, 'docs/plan.md')).equals(v2)).toBe(true);
    expect((await versions.listVersions('docs/plan.md')).map((v) => v.version)).toContain('docs/plan~20261121-101800.md');
    await expect(versions.restoreVersion('docs/plan.md', 'docs/other~20261121-101500.md')).rejects.toMatchObject({ code: 'APPLY_VERSION_NOT_FOUND' });
    await expect(versions.restoreVersion('docs/plan.md', 'docs/plan~20991121-101500.md')).rejects.toMatchObject({ code: 'APPLY_VERSION_NOT_FOUND' });
  });

  it('two versions in the same second get a counter', async () => {
    const versions = new Versions(box.root, { clock });
    for (const text of ['a', 'b', 'c']) {
      await fsp.writeFile(path.join(box.root, 'same.txt'), text);
      await versions.keep('same.txt', 'move');
    }
    expect((await versions.listVersions('same.txt')).map((v) => v.version)).toEqual(['same~20261121-101500-2.txt', 'same~20261121-101500-1.txt', 'same~20261121-101500.txt']);
  });

  it('keeps and lists versions of a name too long to take the suffix', async () => {
    const rel = `${'n'.repeat(250)}.md`;
    await fsp.writeFile(path.join(box.root, rel), 'long');
    const versions = new Versions(box.root, { clock });
    const kept = await versions.keep(rel, 'move');
    expect((await versions.listVersions(rel)).map((v) => v.version)).toEqual([kept]);
    await versions.restoreVersion(rel, kept as string);
    expect(await fsp.readFile(path.join(box.root, rel), 'utf8')).toBe('long');
  });

  async function keepAt(versions: Versions, rel: string, atMs: number): Promise<string> {
    now = atMs;
    await fsp.mkdir(path.dirname(path.join(box.root, rel)), { recursive: true });
    await fsp.writeFile(path.join(box.root, rel), `${rel}@${atMs}`);
    return (await versions.keep(rel, 'move')) as string;
  }

  it('retention by count keeps the newest N of each path and nothing else is touched', async () => {
    const versions = new Versions(box.root, { clock, retention: { maxCount: 2 } });
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await keepAt(versions, 'a.txt', T0 + i * DAY));
    const b = [await keepAt(versions, 'sub/b.txt', T0), await keepAt(versions, 'sub/b.txt', T0 + DAY)];
    const stray = path.join(box.root, '.kinfolder', 'versions', 'not-a-version.txt');
    await fsp.writeFile(stray, 'mine');
    const removed = await versions.prune(T0 + 100 * DAY);
    expect(removed).toEqual([a[0], a[1]].sort());
    expect((await versions.listVersions('a.txt')).map((v) => v.version)).toEqual([a[3], a[2]]);
    expect((await versions.listVersions('sub/b.txt')).map((v) => v.version)).toEqual([b[1], b[0]]);
    expect(await fsp.readFile(stray, 'utf8')).toBe('mine');
    expect(await versions.prune(T0 + 100 * DAY)).toEqual([]);
  });

  it('retention by age removes versions older than the limit, and only those', async () => {
    const versions = new Versions(box.root, { clock, retention: { maxAgeDays: 30 } });
    const old = await keepAt(versions, 'a.txt', T0);
    const edge = await keepAt(versions, 'a.txt', T0 + 10 * DAY);
    const young = await keepAt(versions, 'b.txt', T0 + 39 * DAY);
    // At T0 + 40 days: `old` is 40 days old, `edge` exactly 30 (kept: the rule is "older than"), `young` 1.
    expect(await versions.prune(T0 + 40 * DAY)).toEqual([old]);
    expect((await versions.listVersions('a.txt')).map((v) => v.version)).toEqual([edge]);
    expect((await versions.listVersions('b.txt')).map((v) => v.version)).toEqual([young]);
    // No rule: prune removes nothing.
    expect(await new Versions(box.root, { clock }).prune(T0 + 1000 * DAY)).toEqual([]);
    expect((await versions.listVersions('b.txt')).length).toBe(1);
  });
});
