/** FolderWatcher on real files: bursts, quiet period, max wait, settling, ignore rules. */
import type { Stats } from 'node:fs';
import { appendFileSync, promises as fsp, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FolderWatcher, IgnoreRules, type FolderWatcherOptions } from '../../../plugin/src/scan';
import { makeTempDir, removeDir } from './helpers';

const WAIT_MS = 10_000;

interface Burst {
  readonly at: number;
  readonly paths: ReadonlyMap<string, Stats | undefined>;
}

let root: string;
let watcher: FolderWatcher | undefined;
let bursts: Burst[];
let waiters: Array<() => void>;

beforeEach(async () => {
  root = await makeTempDir('kinfolder-watch-');
  bursts = [];
  waiters = [];
});
afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await removeDir(root);
});

async function startWatcher(options: Partial<FolderWatcherOptions> = {}): Promise<FolderWatcher> {
  const ignore = new IgnoreRules(['*.log']);
  watcher = new FolderWatcher({
    root,
    isIgnored: (rel, isDir) => ignore.isIgnored(rel, isDir),
    onBurst: async (paths) => {
      bursts.push({ at: performance.now(), paths });
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    onError: (e) => {
      throw e;
    },
    ...options,
  });
  await watcher.start();
  return watcher;
}

/** Waits until `pred` holds over the bursts so far, re-checking after each burst. */
async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!pred()) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), left);
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

const seen = (rel: string): boolean => bursts.some((b) => b.paths.has(rel));

test('a new file comes in a burst with its lstat, a quiet period after the event', async () => {
  await startWatcher({ quietMs: 100 });
  const t0 = performance.now();
  await fsp.writeFile(path.join(root, 'a.txt'), 'hello');
  await until(() => seen('a.txt'), 'a.txt');
  const latency = bursts[0].at - t0;
  const st = bursts[0].paths.get('a.txt');
  expect(st?.isFile()).toBe(true);
  expect(st?.size).toBe(5);
  expect(latency).toBeGreaterThanOrEqual(100);
  console.log(`watcher: one small file reached onBurst after ${Math.round(latency)} ms (quietMs 100)`);
});

test('a deleted file comes with undefined', async () => {
  await fsp.writeFile(path.join(root, 'b.txt'), 'bye');
  await startWatcher();
  await fsp.rm(path.join(root, 'b.txt'));
  await until(() => seen('b.txt'), 'b.txt');
  const last = bursts.find((b) => b.paths.has('b.txt'))!;
  expect(last.paths.get('b.txt')).toBeUndefined();
});

test('many events close together make one burst', async () => {
  await fsp.mkdir(path.join(root, 'd'));
  await startWatcher({ quietMs: 100, maxWaitMs: 5000 });
  for (let i = 0; i < 300; i++) writeFileSync(path.join(root, 'd', `f${i}`), `${i}`);
  await until(() => bursts.length > 0, 'a burst');
  expect(bursts[0].paths.size).toBeGreaterThanOrEqual(300);
  for (let i = 0; i < 300; i++) expect(bursts[0].paths.get(`d/f${i}`)?.isFile()).toBe(true);
});

test('a folder that never goes quiet still gets a burst after maxWaitMs', async () => {
  await startWatcher({ quietMs: 200, maxWaitMs: 300 });
  let writing = true;
  let i = 0;
  const timer = setInterval(() => writeFileSync(path.join(root, `busy-${i++}.txt`), 'x'), 20);
  try {
    await until(() => bursts.length > 0, 'a burst while writing');
    // Files keep coming every 20 ms, far inside the 200 ms quiet period: only maxWaitMs ended it.
    expect(writing).toBe(true);
  } finally {
    clearInterval(timer);
    writing = false;
  }
});

test('a file still being written is held back until it stops changing', async () => {
  const file = path.join(root, 'growing.bin');
  writeFileSync(file, '');
  await startWatcher({ quietMs: 20, maxWaitMs: 40, settleMs: 50 });
  let appends = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      appendFileSync(file, Buffer.alloc(1000, 1));
      if (++appends === 60) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  const finalSize = 60 * 1000;
  await until(() => bursts.some((b) => b.paths.get('growing.bin')?.size === finalSize), 'the settled file');
  // Never delivered half-written.
  for (const b of bursts) {
    const st = b.paths.get('growing.bin');
    if (b.paths.has('growing.bin')) expect(st?.size).toBe(finalSize);
  }
});

test('ignored paths and .kinfolder/ never reach a burst', async () => {
  await startWatcher();
  await fsp.mkdir(path.join(root, '.kinfolder', 'tmp'), { recursive: true });
  await fsp.writeFile(path.join(root, '.kinfolder', 'tmp', 'x'), 'temp');
  await fsp.writeFile(path.join(root, 'debug.log'), 'log');
  await fsp.writeFile(path.join(root, 'real.txt'), 'real');
  await until(() => seen('real.txt'), 'real.txt');
  const all = bursts.flatMap((b) => [...b.paths.keys()]);
  expect(all.filter((p) => p.startsWith('.kinfolder') || p.endsWith('.log'))).toEqual([]);
});

test('stop() drops the pending burst and ends watching', async () => {
  const w = await startWatcher({ quietMs: 20 });
  await fsp.writeFile(path.join(root, 'pending.txt'), 'pending');
  await w.stop();
  await fsp.writeFile(path.join(root, 'late.txt'), 'late');
  // A second watcher sees a later write after its own (equal) quiet period: by then the
  // stopped one would have reported, had it kept going.
  const seenByB: string[] = [];
  let resolveB!: () => void;
  const gotB = new Promise<void>((r) => (resolveB = r));
  const b = new FolderWatcher({
    root,
    isIgnored: () => false,
    quietMs: 20,
    onBurst: async (paths) => {
      seenByB.push(...paths.keys());
      if (paths.has('after.txt')) resolveB();
    },
  });
  try {
    await b.start();
    await fsp.writeFile(path.join(root, 'after.txt'), 'after');
    await gotB;
  } finally {
    await b.stop();
  }
  expect(seenByB).toContain('after.txt');
  expect(bursts).toEqual([]);
});

test('one watch per directory, none per file', async () => {
  for (let d = 0; d < 3; d++) {
    await fsp.mkdir(path.join(root, `d${d}`, 'sub'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(path.join(root, `d${d}`, `f${i}`), 'x');
  }
  await fsp.mkdir(path.join(root, '.kinfolder', 'versions'), { recursive: true });
  const w = await startWatcher();
  // The root, d0..d2 and their sub/ directories; .kinfolder/ is ignored.
  expect(w.watchedDirs).toBe(7);
});

test('a directory made after the start is watched: later files in it come in bursts', async () => {
  const w = await startWatcher({ quietMs: 20 });
  await fsp.mkdir(path.join(root, 'new'));
  await until(() => seen('new'), 'the new directory');
  expect(w.watchedDirs).toBe(2);
  await fsp.writeFile(path.join(root, 'new', 'inside.txt'), 'inside');
  await until(() => seen('new/inside.txt'), 'a file in the new directory');
});

test('a tree moved in is watched to its depth, and what it held is marked', async () => {
  const outside = await makeTempDir('kinfolder-watch-outside-');
  try {
    await fsp.mkdir(path.join(outside, 'tree', 'a', 'b'), { recursive: true });
    await fsp.writeFile(path.join(outside, 'tree', 'a', 'b', 'deep.txt'), 'deep');
    const w = await startWatcher({ quietMs: 20 });
    await fsp.rename(path.join(outside, 'tree'), path.join(root, 'tree'));
    await until(() => seen('tree/a/b/deep.txt'), 'the moved-in file');
    expect(w.watchedDirs).toBe(4);
    await fsp.writeFile(path.join(root, 'tree', 'a', 'b', 'later.txt'), 'later');
    await until(() => seen('tree/a/b/later.txt'), 'a later file deep in the moved-in tree');
  } finally {
    await removeDir(outside);
  }
});

test('a directory removed is let go; one made again under its name is watched anew', async () => {
  await fsp.mkdir(path.join(root, 'gone', 'below'), { recursive: true });
  const w = await startWatcher({ quietMs: 20 });
  expect(w.watchedDirs).toBe(3);
  await fsp.rm(path.join(root, 'gone'), { recursive: true });
  await until(() => bursts.some((b) => b.paths.has('gone') && b.paths.get('gone') === undefined), 'the removal');
  expect(w.watchedDirs).toBe(1);
  await fsp.mkdir(path.join(root, 'gone'));
  await until(() => bursts.some((b) => b.paths.get('gone')?.isDirectory() === true), 'the directory again');
  await fsp.writeFile(path.join(root, 'gone', 'again.txt'), 'again');
  await until(() => seen('gone/again.txt'), 'a file in the new directory of the old name');
});

test('watchDir: a directory the owner made is watched before the event for it arrives', async () => {
  const w = await startWatcher({ quietMs: 200, maxWaitMs: 5000 });
  await fsp.mkdir(path.join(root, 'mine'));
  expect(w.watchDir('mine')).toBe(true);
  expect(w.watchDir('.kinfolder')).toBe(false);
  await fsp.writeFile(path.join(root, 'mine', 'first.txt'), 'first');
  // In the same burst as the directory: its watch was there before the file.
  await until(() => seen('mine/first.txt'), 'the file written right after watchDir');
  expect(bursts.find((b) => b.paths.has('mine/first.txt'))?.paths.has('mine')).toBe(true);
});

test('refresh lets go of directories the rules now ignore and watches those they no longer do', async () => {
  const rules = { ignored: new Set<string>(['skip']) };
  await fsp.mkdir(path.join(root, 'skip'));
  await fsp.mkdir(path.join(root, 'keep'));
  const w = await startWatcher({ quietMs: 20, isIgnored: (rel) => rules.ignored.has(rel.split('/')[0]) });
  expect(w.watchedDirs).toBe(2);
  rules.ignored = new Set(['keep']);
  await w.refresh();
  expect(w.watchedDirs).toBe(2);
  await fsp.writeFile(path.join(root, 'skip', 'now-seen.txt'), 'x');
  await until(() => seen('skip/now-seen.txt'), 'a file in the directory no longer ignored');
});

test('a burst holds at most maxBurst paths; the rest follow in the next ones, none lost', async () => {
  await fsp.mkdir(path.join(root, 'd'));
  await startWatcher({ quietMs: 50, maxWaitMs: 5000, maxBurst: 100 });
  for (let i = 0; i < 350; i++) writeFileSync(path.join(root, 'd', `f${i}`), `${i}`);
  await until(() => Array.from({ length: 350 }, (_, i) => `d/f${i}`).every(seen), 'every file');
  expect(bursts.length).toBeGreaterThanOrEqual(4);
  for (const b of bursts) expect(b.paths.size).toBeLessThanOrEqual(100);
});

test('a file the owner vouches for (isUnchanged) is left out of the burst; the others come', async () => {
  const asked: string[] = [];
  await startWatcher({ quietMs: 50, isUnchanged: (rel, st) => (asked.push(rel), rel === 'mine.txt' && st.size === 4) });
  await fsp.writeFile(path.join(root, 'mine.txt'), 'mine');
  await fsp.writeFile(path.join(root, 'theirs.txt'), 'theirs');
  await until(() => seen('theirs.txt'), 'theirs.txt');
  expect(asked).toEqual(expect.arrayContaining(['mine.txt', 'theirs.txt']));
  expect(seen('mine.txt')).toBe(false);
  // Changed afterwards (the owner no longer vouches for it): it comes.
  await fsp.writeFile(path.join(root, 'mine.txt'), 'mine, edited');
  await until(() => seen('mine.txt'), 'mine.txt after an edit');
});
