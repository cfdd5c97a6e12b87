// Kill a writer with SIGKILL in the middle of a batch and check that every batch is all there or not at all.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as sqlite3 from 'sqlite3';
import { Store } from '../../../plugin/src/store';
import { tempDir } from './records';

const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.ts');
const PER_BATCH = 5000;

interface Outcome {
  started: number[];
  done: number[];
}

/** Runs the writer until it announces batch `killAt`, waits `delayMs`, then SIGKILLs it. */
function runAndKill(file: string, killAt: number, delayMs: number, cacheMb: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(PER_BATCH), String(cacheMb)], {
      cwd: path.join(__dirname, '..', '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const outcome: Outcome = { started: [], done: [] };
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never reached batch ${killAt}; stderr: ${stderr}`));
    }, 45_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, n] = line.split(' ');
      (what === 'start' ? outcome.started : outcome.done).push(Number(n));
      if (what === 'start' && Number(n) === killAt) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${code}): ${stderr}`));
      else resolve(outcome);
    });
  });
}

function integrityCheck(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (err) => {
      if (err) return reject(err);
      db.get('PRAGMA integrity_check', (e, row: { integrity_check: string }) => db.close(() => (e ? reject(e) : resolve(row.integrity_check))));
    });
  });
}

describe('crash atomicity', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('kinfolder-crash-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Different kill points; a 1 MB cache makes sqlite spill uncommitted pages into the WAL mid-batch,
  // so recovery has torn frames to ignore, not just a transaction that never reached the disk.
  const cases = [
    { killAt: 1, delayMs: 0, cacheMb: 64 },
    { killAt: 2, delayMs: 15, cacheMb: 1 },
    { killAt: 3, delayMs: 40, cacheMb: 1 },
    { killAt: 2, delayMs: 80, cacheMb: 64 },
  ];
  const caughtInFlight: boolean[] = [];

  test.each(cases)('killed after batch $killAt started (+$delayMs ms, cache $cacheMb MB): each batch is whole or absent', async ({ killAt, delayMs, cacheMb }) => {
    const file = path.join(dir, `kill-${killAt}-${delayMs}-${cacheMb}.sqlite`);
    const outcome = await runAndKill(file, killAt, delayMs, cacheMb);
    expect(outcome.started).toContain(killAt);
    expect(await integrityCheck(file)).toBe('ok');

    const store = await Store.open(file);
    try {
      const vv = await store.versionVector('folder-1');
      const complete: number[] = [];
      for (const b of outcome.started) {
        const author = `batch-${b}`;
        let n = 0;
        for await (const _ of store.entriesRange('folder-1', author, 1, PER_BATCH)) n++;
        // All or nothing, and the version vector, heads and checkpoint agree with the entries.
        expect([0, PER_BATCH]).toContain(n);
        expect(vv.get(author)?.seq ?? 0).toBe(n);
        expect((await store.latestCheckpoint('folder-1', author))?.seq ?? 0).toBe(n);
        expect(await store.heads('folder-1', `${author}/f${PER_BATCH}`)).toHaveLength(n ? 1 : 0);
        if (n) complete.push(b);
      }
      // Every batch the writer saw committed is there, and so is every batch before the one killed.
      for (const b of outcome.done) expect(complete).toContain(b);
      for (let b = 0; b < killAt; b++) expect(complete).toContain(b);
      caughtInFlight.push(!complete.includes(killAt));
      // Nothing else was written.
      let heads = 0;
      for await (const _ of store.pathsWithHeads('folder-1')) heads++;
      expect(heads).toBe(complete.length * PER_BATCH);
    } finally {
      await store.close();
    }
  });

  test('at least one kill landed inside a transaction (the test exercised a torn batch)', () => {
    expect(caughtInFlight).toHaveLength(cases.length);
    expect(caughtInFlight.some(Boolean)).toBe(true);
  });
});
