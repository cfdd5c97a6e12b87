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
  await cache.close();
  const restarted = new CachingBlockSource(path.join(dir, 'incoming'), net);
  expect(await restarted.read(sha(b), b.length)).toEqual(b);
  expect(net.asked).toEqual([sha(b)]);
  await restarted.close();
});

test('a kept block that was altered or torn is a miss, fetched again; a miss everywhere is undefined', async () => {
  const b = randomBytes(4096);
  const net = network([b]);
  const cache = new CachingBlockSource(path.join(dir, 'incoming'), net);
  await cache.read(sha(b), b.length);
  // One byte of the kept block flipped on disk.
  const [pack] = await fsp.readdir(path.join(dir, 'incoming'));
  const file = path.join(dir, 'incoming', pack);
  const bytes = await fsp.readFile(file);
  bytes[bytes.length - 1] ^= 0xff;
  await fsp.writeFile(file, bytes);
  expect(await cache.read(sha(b), b.length)).toEqual(b);
  expect(net.asked).toHaveLength(2);
  // Written again: the next read is a hit.
  expect(await cache.read(sha(b), b.length)).toEqual(b);
  expect(net.asked).toHaveLength(2);
  expect(await cache.read('0'.repeat(64), 10)).toBeUndefined();
  await cache.close();
});

test('a torn record at the end of a pack (a crash while writing) is a miss for a restarted cache, and the next block goes over it', async () => {
  const [a, b, c] = [randomBytes(3000), randomBytes(3000), randomBytes(3000)];
  const net = network([a, b, c]);
  const first = new CachingBlockSource(path.join(dir, 'incoming'), net);
  await first.read(sha(a), a.length);
  await first.read(sha(b), b.length);
  await first.close();
  const [pack] = await fsp.readdir(path.join(dir, 'incoming'));
  const file = path.join(dir, 'incoming', pack);
  await fsp.truncate(file, (await fsp.stat(file)).size - 100);
  const again = new CachingBlockSource(path.join(dir, 'incoming'), net);
  expect(await again.read(sha(a), a.length)).toEqual(a);
  expect(net.asked).toEqual([sha(a), sha(b)]);
  expect(await again.read(sha(b), b.length)).toEqual(b); // torn: fetched again
  expect(await again.read(sha(c), c.length)).toEqual(c);
  expect(net.asked).toEqual([sha(a), sha(b), sha(b), sha(c)]);
  await again.close();
  const third = new CachingBlockSource(path.join(dir, 'incoming'), net);
  for (const x of [a, b, c]) expect(await third.read(sha(x), x.length)).toEqual(x);
  expect(net.asked).toHaveLength(4);
  await third.close();
});

test('over its bound the oldest blocks go; clear() empties it', async () => {
  const blocks = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
  const net = network(blocks);
  const cache = new CachingBlockSource(path.join(dir, 'incoming'), net, 2500);
  for (const b of blocks) await cache.read(sha(b), b.length);
  let onDisk = 0;
  for (const n of await fsp.readdir(path.join(dir, 'incoming'))) onDisk += (await fsp.stat(path.join(dir, 'incoming', n))).size;
  expect(onDisk).toBeLessThanOrEqual(2500);
  // The newest two are kept, the oldest went.
  expect(await cache.read(sha(blocks[2]), 1000)).toEqual(blocks[2]);
  expect(await cache.read(sha(blocks[1]), 1000)).toEqual(blocks[1]);
  expect(net.asked).toHaveLength(3);
  expect(await cache.read(sha(blocks[0]), 1000)).toEqual(blocks[0]);
  expect(net.asked).toHaveLength(4);
  await cache.clear();
  expect(await fsp.readdir(path.join(dir, 'incoming')).catch(() => [])).toEqual([]);
  await cache.close();
});
