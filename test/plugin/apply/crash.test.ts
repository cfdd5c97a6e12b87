// SIGKILL an applier at seeded random points during a large update: every target holds the old or the new bytes, never a mix; a restart completes the run.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { FolderState } from '../../../plugin/src/log';
import { Store } from '../../../plugin/src/store';
import { PARTIAL_PREFIX, TEMP_PREFIX, TMP_REL, Versions } from '../../../plugin/src/apply';
import { fileContentHash } from '../scan/helpers';
import { ALICE, Author, BOB, FOLDER, SOURCE_FOLDER, sandbox, scanInto, seededBytes, sha256Hex, type Sandbox } from './helpers';

/** A file apply builds before its rename: a fresh temp file, or a big file's resumable one. */
const isTemp = (name: string): boolean => name.startsWith(TEMP_PREFIX) || name.startsWith(PARTIAL_PREFIX);

const CHILD = path.join(__dirname, 'fixtures', 'crash-applier.ts');
const REPO = path.join(__dirname, '..', '..', '..');
const FILES = 40;
const MiB = 1024 * 1024;

/** mulberry32: a seeded PRNG so the kill points are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RunResult {
  progress: number;
  /** Progress lines for files written by this run (adopted ones were already there). */
  written: number;
  finished?: string;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child; when `killAfter` is set, SIGKILLs it `delayMs` after that progress line. */
function runChild(planPath: string, killAfter?: number, delayMs = 0): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, planPath], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const result: RunResult = { progress: 0, written: 0, signal: null, stderr: '' };
    child.stderr.on('data', (d) => (result.stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child took too long; stderr: ${result.stderr}`));
    }, 90_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, n] = line.split(' ');
      if (what === "progress") {
        if (line.endsWith(' written')) result.written++;
        result.progress = Number(n);
        if (killAfter !== undefined && result.progress === killAfter) setTimeout(() => child.kill('SIGKILL'), delayMs);
      } else if (what === 'done') result.finished = line.slice(5);
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      result.signal = signal;
      resolve(result);
    });
    child.on('error', reject);
  });
}

// Both ways to make files durable: an fsync per file, and shared syncfs calls (GroupSync).
describe.each([false, true])('apply survives SIGKILL at any point (shared syncs: %s)', (groupSync) => {
  let box: Sandbox;
  let planPath: string;
  const oldHash = new Map<string, string>();
  const newHash = new Map<string, string>();
  const newContentHash = new Map<string, string>();

  beforeAll(async () => {
    box = await sandbox();
    const sourceRoot = path.join(box.base, 'source');
    await fsp.mkdir(sourceRoot);
    const alice = new Author(ALICE);
    const bob = new Author(BOB);
    const entries: string[] = [];
    const state = new FolderState();
    for (let i = 0; i < FILES; i++) {
      const rel = `dir${i % 4}/file-${String(i).padStart(2, '0')}.bin`;
      const size = 2 * MiB + Math.floor(prng(i)() * 2 * MiB);
      const oldBytes = seededBytes(`old-${i}`, size);
      const newBytes = seededBytes(`new-${i}`, size + 4096);
      oldHash.set(rel, sha256Hex(oldBytes));
      newHash.set(rel, sha256Hex(newBytes));
      newContentHash.set(rel, fileContentHash(newBytes));
      await fsp.mkdir(path.join(box.root, `dir${i % 4}`), { recursive: true });
      await fsp.writeFile(path.join(box.root, rel), oldBytes);
      const oldMeta = await scanInto(box.store, FOLDER, box.root, rel);
      // The new content exists on this node in another folder: the local block source finds it there.
      await fsp.writeFile(path.join(sourceRoot, `seed-${i}.bin`), newBytes);
      const newMeta = { ...(await scanInto(box.store, SOURCE_FOLDER, sourceRoot, `seed-${i}.bin`)), mode: 0o640 };
      const a = alice.put(rel, oldMeta);
      const b = bob.put(rel, newMeta, [a]);
      for (const e of [a, b]) {
        state.apply(e);
        entries.push(Buffer.from(e.bytes).toString('hex'));
      }
    }
    for (let d = 0; d < 4; d++) await scanInto(box.store, FOLDER, box.root, `dir${d}`);
    expect(state.conflicts()).toEqual([]);
    await box.store.close();
    planPath = path.join(box.base, 'plan.json');
    const plan = { folder: FOLDER, root: box.root, sourceFolder: SOURCE_FOLDER, sourceRoot, storePath: box.store.path, entries, groupSync };
    await fsp.writeFile(planPath, JSON.stringify(plan));
  }, 120_000);

  afterAll(async () => {
    await fsp.rm(box.base, { recursive: true, force: true });
  });

  async function targetHashes(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const rel of oldHash.keys()) out.set(rel, sha256Hex(await fsp.readFile(path.join(box.root, rel))));
    return out;
  }

  it('old or new at every kill point, never torn; a restart completes and cleans temp files', async () => {
    const random = prng(20261121);
    const kills: { after: number; delayMs: number; newFiles: number; progress: number; tempLeft: number }[] = [];
    // Each kill lands later in the same run of updates: every run re-applies what is left.
    let left = FILES;
    for (let k = 0; k < 6 && left > 8; k++) {
      // Files stay well beyond the kill point (the applier writes up to four at once, each several
      // ms of hashing and fsync), so the kill always lands mid-run.
      const after = 1 + Math.floor(random() * Math.min(3, left - 6));
      const delayMs = Math.floor(random() * 15);
      const run = await runChild(planPath, after, delayMs);
      expect(run.stderr).toBe('');
      expect(run.signal).toBe('SIGKILL');
      expect(run.finished).toBeUndefined();
      const hashes = await targetHashes();
      let fresh = 0;
      for (const [rel, h] of hashes) {
        expect([oldHash.get(rel), newHash.get(rel)]).toContain(h);
        if (h === newHash.get(rel)) fresh++;
      }
      const tempLeft = (await fsp.readdir(path.join(box.root, ...TMP_REL.split('/')))).filter(isTemp).length;
      kills.push({ after, delayMs, newFiles: fresh, progress: run.progress, tempLeft });
      expect(run.progress).toBeGreaterThanOrEqual(after);
      expect(fresh).toBeGreaterThanOrEqual(FILES - left + run.written);
      left = FILES - fresh;
    }
    expect(kills.length).toBeGreaterThanOrEqual(5);
    // At least one kill landed mid-build (a half-written temp file was left behind: a fresh one for
    // the restart to clean, or a big file's partial one for it to finish).
    expect(kills.some((k) => k.tempLeft > 0)).toBe(true);

    const last = await runChild(planPath);
    expect(last.stderr).toBe('');
    expect(last.signal).toBeNull();
    const summary = JSON.parse(last.finished as string) as { conflicts: unknown[]; refused: unknown[] };
    // A file renamed into place just before a kill is adopted, not mistaken for a local edit.
    expect(summary.conflicts).toEqual([]);
    expect(summary.refused).toEqual([]);
    for (const [rel, h] of await targetHashes()) expect(h).toBe(newHash.get(rel));
    const tmp = await fsp.readdir(path.join(box.root, ...TMP_REL.split('/')));
    expect(tmp.filter(isTemp)).toEqual([]);

    // Nothing lost: the old bytes of every file are among its kept versions.
    const versions = new Versions(box.root, { clock: Date.now });
    for (const rel of oldHash.keys()) {
      const kept = await versions.listVersions(rel);
      const hashes = await Promise.all(kept.map(async (v) => sha256Hex(await fsp.readFile(path.join(box.root, '.kinfolder', 'versions', v.version)))));
      expect(hashes).toContain(oldHash.get(rel));
    }

    // The index matches the disk for what apply wrote, so a scanner re-announces nothing.
    const store = await Store.open(path.join(box.base, 'store.sqlite'));
    try {
      for (const rel of oldHash.keys()) {
        const st = await fsp.lstat(path.join(box.root, rel));
        const rec = await store.localFile(FOLDER, rel);
        expect(rec).toMatchObject({ size: st.size, inode: st.ino, mtimeMs: Math.floor(st.mtimeMs), contentHash: newContentHash.get(rel), mode: 0o640 });
      }
    } finally {
      await store.close();
    }
    // For the report: where each kill landed.
    console.log(`crash kill points (shared syncs: ${groupSync}): ${JSON.stringify(kills)}`);
  }, 240_000);
});
