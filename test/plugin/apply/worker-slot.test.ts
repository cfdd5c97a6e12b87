// A worker comes and goes with the work: stopped once idle (its isolate is RSS), started again for the next batch.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmptyFiles, utimesSeconds } from '../../../plugin/src/apply';
import { BlockReads } from '../../../plugin/src/apply/block-reads';

/** Resolves once `check()` holds, polled; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-slot-'));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

test('the empty-file worker stops once idle and starts again for the next file', async () => {
  const maker = new EmptyFiles(100);
  try {
    expect(maker.working).toBe(false);
    const f = (name: string) => ({ path: path.join(dir, name), mode: 0o644, chmod: false, timeSec: utimesSeconds(1_600_000_000_000) });
    expect((await maker.make(f('a'))).ok).toBe(true);
    expect(maker.working).toBe(true);
    await until(() => !maker.working, 'the idle worker to stop');
    expect((await maker.make(f('b'))).ok).toBe(true);
    expect(maker.working).toBe(true);
    expect((await fsp.readdir(dir)).sort()).toEqual(['a', 'b']);
  } finally {
    maker.close();
  }
});

test('the block-read worker stops once idle, and a read after it still answers', async () => {
  const reads = new BlockReads(100);
  try {
    const data = Buffer.from('some block bytes');
    const file = path.join(dir, 'f');
    await fsp.writeFile(file, data);
    const r = { path: file, offset: 0, size: data.length, hash: createHash('sha256').update(data).digest('hex') };
    expect(await reads.read(r)).toEqual(data);
    await until(() => !reads.working, 'the idle worker to stop');
    expect(await reads.read(r)).toEqual(data);
    expect(reads.working).toBe(true);
  } finally {
    reads.close();
  }
});
