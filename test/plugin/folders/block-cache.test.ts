import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CachingBlockSource } from '../../../plugin/src/folders/block-cache';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir = '';
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-cache-'));
});
afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

function network(blocks: Buffer[]) {
  const asked: string[] = [];
  const byHash = new Map(blocks.map((b) => [sha(b), b]));
  return { asked, read: async (hash: string) => (asked.push(hash), byHash.get(hash)) };
}

test('a block fetched once is read from disk afterwards, also by a new cache over the same folder (a restarted sidecar)', async () => {
  const b = randomBytes(4096);
  const net = network([b]);
  const cache = new CachingBlockSource(path.join(dir, 'incoming'), net);
  expect(await cache.read(sha(b), b.length)).toEqual(b);
  expect(await cache.read(sha(b), b.length)).toEqual(b);
  expect(await new CachingBlockSource(path.join(dir, 'incoming'), net).read(sha(b), b.length)).toEqual(b);
  expect(net.asked).toEqual([sha(b)]);
});

test('a kept block that was altered or torn is a miss, fetched again; a miss everywhere is undefined', async () => {
  const b = randomBytes(4096);
  const net = network([b]);
  const cache = new CachingBlockSource(path.join(dir, 'incoming'), net);
  await cache.read(sha(b), b.length);
  await fsp.writeFile(path.join(dir, 'incoming', sha(b)), b.subarray(0, 100));
  expect(await cache.read(sha(b), b.length)).toEqual(b);
  expect(net.asked).toHaveLength(2);
  expect(await cache.read('0'.repeat(64), 10)).toBeUndefined();
});

test('over its bound the oldest blocks go; clear() empties it', async () => {
  const blocks = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
  const net = network(blocks);
  const cache = new CachingBlockSource(path.join(dir, 'incoming'), net, 2500);
  for (const b of blocks) await cache.read(sha(b), b.length);
  const kept = await fsp.readdir(path.join(dir, 'incoming'));
  expect(kept.length).toBe(2);
  expect(kept).toContain(sha(blocks[2]));
  await cache.clear();
  expect(await fsp.readdir(path.join(dir, 'incoming')).catch(() => [])).toEqual([]);
});
