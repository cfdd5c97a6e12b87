import { createHash, randomBytes } from 'node:crypto';
import { AUTHOR_SLOWER_LIMIT, BlockRequester, isSyncError, PeerBlockSource, type SyncMessage } from '../../../plugin/src/sync';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type Request = Extract<SyncMessage, { kind: 'block-request' }>;

/** A requester whose peer answers with `answer(request)` on the next tick. */
function peer(name: string, answer: (r: Request) => Uint8Array | undefined): { requester: BlockRequester; asked: Request[] } {
  const asked: Request[] = [];
  const requester: BlockRequester = new BlockRequester(name, async (m) => {
    if (m.kind !== 'block-request') return;
    asked.push(m);
    setImmediate(() => requester.onReply({ kind: 'block-reply', id: m.id, hash: m.hash, data: answer(m) }));
  });
  return { requester, asked };
}

test('a block that does not match its hash fails that peer; the next peer’s verified block is used', async () => {
  const block = randomBytes(4096);
  const liar = peer('liar', (r) => Buffer.alloc(r.size, 7));
  const honest = peer('honest', () => block);
  await expect(liar.requester.request(sha(block), block.length)).rejects.toMatchObject({ code: 'SYNC_BLOCK_FAILED' });

  const source = new PeerBlockSource();
  source.add(liar.requester);
  source.add(honest.requester);
  const got = await source.read(sha(block), block.length);
  expect(got && Buffer.compare(got, block)).toBe(0);
  expect(honest.asked).toHaveLength(1);

  // A peer no longer allowed (removed from the folder) is not even asked.
  let allowed = true;
  let askedRemoved = false;
  const removed = new BlockRequester('removed', async () => {
    askedRemoved = true;
  }, 16, undefined, () => allowed);
  const guarded = new PeerBlockSource();
  guarded.add(removed);
  guarded.add(honest.requester);
  allowed = false;
  expect(await guarded.read(sha(block), block.length)).toEqual(block);
  expect(honest.asked).toHaveLength(2);
  expect(askedRemoved).toBe(false);

  // Nobody has it: undefined, not an error (the engine's chain then reports the block unavailable).
  const none = new PeerBlockSource();
  none.add(peer('empty', () => undefined).requester);
  expect(await none.read(sha(Buffer.from('x')), 1)).toBeUndefined();
});

test("the peer named as the block's source (its file's author) is asked first; the others only when it lacks the block", async () => {
  const block = randomBytes(512);
  // The author is busy (requests in flight, slow replies); the other receiver answers its
  // misses at once, so by speed alone it would be asked first for everything.
  const pending: Request[] = [];
  const author = new BlockRequester('author', async (m) => {
    if (m.kind === 'block-request') pending.push(m);
  });
  const receiver = peer('receiver', () => undefined);
  const source = new PeerBlockSource();
  source.add(receiver.requester);
  source.add(author);
  const busy = author.request(sha(randomBytes(8)), 8);
  await new Promise((r) => setImmediate(r));
  const answer = (): void => {
    for (const m of pending.splice(0)) author.onReply({ kind: 'block-reply', id: m.id, hash: m.hash, data: m.hash === sha(block) ? block : undefined });
  };
  const named = source.read(sha(block), block.length, undefined, 'author');
  await new Promise((r) => setImmediate(r));
  answer();
  expect(await named).toEqual(block);
  expect(receiver.asked).toHaveLength(0);
  await busy;

  // A named peer that lacks the block passes it on to the others.
  const other = randomBytes(64);
  const holder = peer('holder', () => other);
  source.add(holder.requester);
  const passed = source.read(sha(other), other.length, undefined, 'author');
  for (let i = 0; i < 5 && pending.length === 0; i++) await new Promise((r) => setImmediate(r));
  answer();
  expect(await passed).toEqual(other);
  expect(holder.asked).toHaveLength(1);

  // An author far slower than a peer that has been serving blocks goes after it.
  author.latencyMs = 40 * AUTHOR_SLOWER_LIMIT;
  holder.requester.latencyMs = 10;
  const fast = source.read(sha(other), other.length, undefined, 'author');
  expect(await fast).toEqual(other);
  expect(holder.asked).toHaveLength(2);
  expect(pending).toHaveLength(0);
});

test('at most maxInFlight requests in flight per peer; the rest wait and all resolve', async () => {
  const blocks = Array.from({ length: 40 }, () => randomBytes(64));
  const byHash = new Map(blocks.map((b) => [sha(b), b]));
  const pending: Request[] = [];
  const requester = new BlockRequester('slow', async (m) => {
    if (m.kind === 'block-request') pending.push(m);
  }, 16);
  let maxSeen = 0;
  const all = Promise.all(blocks.map((b) => requester.request(sha(b), b.length)));
  // Answer what was asked, one at a time, checking the bound each time.
  let answered = 0;
  while (answered < blocks.length) {
    await new Promise((r) => setImmediate(r));
    maxSeen = Math.max(maxSeen, pending.length);
    const m = pending.shift();
    if (!m) continue;
    requester.onReply({ kind: 'block-reply', id: m.id, hash: m.hash, data: byHash.get(m.hash) });
    answered++;
  }
  const got = await all;
  expect(got.map((g) => g && sha(g))).toEqual(blocks.map((b) => sha(b)));
  expect(maxSeen).toBe(16);
});

test('closing the link fails requests in flight with SYNC_CLOSED', async () => {
  const requester = new BlockRequester('gone', async () => undefined);
  const p = requester.request('00'.repeat(32), 10);
  await new Promise((r) => setImmediate(r));
  requester.close();
  const e = await p.catch((x: unknown) => x);
  expect(isSyncError(e, 'SYNC_CLOSED')).toBe(true);
});

test('an aborted request fails, frees its slot for the next in line, and leaves no listener on the signal', async () => {
  const requester = new BlockRequester('one-slot', async () => undefined, 1);
  const ctl = new AbortController();
  let listeners = 0;
  const signal = ctl.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<typeof add>) => (listeners++, add(...a))) as typeof add;
  signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listeners--, remove(...a))) as typeof remove;
  const first = requester.request('11'.repeat(32), 1, signal).catch((e: unknown) => e);
  const second = requester.request('22'.repeat(32), 1).catch((e: unknown) => e);
  await new Promise((r) => setImmediate(r));
  expect(requester.requestsInFlight).toBe(1);
  ctl.abort();
  expect(isSyncError(await first, 'SYNC_CLOSED')).toBe(true);
  await new Promise((r) => setImmediate(r));
  // The second request got the slot (and its BlockRequest went out).
  expect(requester.requestsInFlight).toBe(1);
  expect(listeners).toBe(0);
  requester.close();
  expect(isSyncError(await second, 'SYNC_CLOSED')).toBe(true);
});

test('at most windowBytes asked at once; a peer speaking protocol 2 gets the requests of one turn in one BlockRequests, and its BlockReplies are checked one by one', async () => {
  const blocks = Array.from({ length: 10 }, () => randomBytes(1000));
  const byHash = new Map(blocks.map((b) => [sha(b), b]));
  const sent: Extract<SyncMessage, { kind: 'block-requests' }>[] = [];
  const requester = new BlockRequester('batching', async (m) => {
    if (m.kind === 'block-requests') sent.push(m);
  }, 256, undefined, undefined, undefined, 4000, () => true);
  const all = Promise.allSettled(blocks.map((b) => requester.request(sha(b), b.length)));
  await until(() => sent.length === 1);
  // 4 blocks of 1000 bytes fill the 4000-byte window; they went as one message.
  expect(sent[0].requests.map((r) => r.hash)).toEqual(blocks.slice(0, 4).map(sha));
  expect(requester.requestsInFlight).toBe(4);
  // One reply lies (another block's bytes), one says "not here", two are right.
  const [r0, r1, r2, r3] = sent[0].requests;
  requester.onReplies({ kind: 'block-replies', replies: [{ id: r0.id, hash: r0.hash, data: byHash.get(r0.hash) }, { id: r1.id, hash: r1.hash, data: byHash.get(r2.hash) }, { id: r2.id, hash: r2.hash }, { id: r3.id, hash: r3.hash, data: byHash.get(r3.hash) }] });
  await until(() => sent.length === 2);
  expect(sent[1].requests.map((r) => r.hash)).toEqual(blocks.slice(4, 8).map(sha));
  expect(requester.hitRate).toBeLessThan(1);
  let answered = 1;
  while (answered < sent.length || sent.length < 3) {
    await until(() => sent.length > answered);
    requester.onReplies({ kind: 'block-replies', replies: sent[answered].requests.map((r) => ({ id: r.id, hash: r.hash, data: byHash.get(r.hash) })) });
    answered++;
  }
  const got = await all;
  expect(got[1].status === 'rejected' && isSyncError(got[1].reason, 'SYNC_BLOCK_FAILED')).toBe(true);
  expect(got[2]).toEqual({ status: 'fulfilled', value: undefined });
  for (const i of [0, 3, 4, 5, 6, 7, 8, 9]) expect(got[i].status === 'fulfilled' && got[i].value?.equals(blocks[i])).toBe(true);
  expect(sent.flatMap((m) => m.requests).length).toBe(blocks.length);
  expect(requester.requestsInFlight).toBe(0);
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}

test('a request whose message was lost is asked again under the same id before the reply timeout, and resend() asks again for all unanswered; a late first answer makes the second a no-op', async () => {
  const block = randomBytes(2000);
  const seen: Request[] = [];
  // The first copy of each request is "lost"; the second is answered.
  const requester: BlockRequester = new BlockRequester('lossy', async (m) => {
    if (m.kind !== 'block-request') return;
    seen.push(m);
    if (seen.filter((r) => r.id === m.id).length === 2) setImmediate(() => requester.onReply({ kind: 'block-reply', id: m.id, hash: m.hash, data: block }));
  }, 16, undefined, undefined, 1000);
  const t0 = Date.now();
  const got = await requester.request(sha(block), block.length);
  expect(got?.equals(block)).toBe(true);
  expect(Date.now() - t0).toBeLessThan(1000); // asked again at half the timeout, not failed at the end of it
  expect(seen.map((r) => r.id)).toEqual([seen[0].id, seen[0].id]);

  // resend(): everything unanswered goes out again at once.
  const held: Request[] = [];
  const quiet: BlockRequester = new BlockRequester('quiet', async (m) => {
    if (m.kind === 'block-request') held.push(m);
  }, 16, undefined, undefined, 30_000);
  const a = quiet.request(sha(block), block.length);
  const b = quiet.request('77'.repeat(32), 5);
  await until(() => held.length === 2);
  quiet.resend();
  await until(() => held.length === 4);
  expect(held.slice(2).map((r) => r.id).sort()).toEqual(held.slice(0, 2).map((r) => r.id).sort());
  const idOfBlock = held.find((r) => r.hash === sha(block))!.id;
  quiet.onReply({ kind: 'block-reply', id: idOfBlock, hash: sha(block), data: block });
  quiet.onReply({ kind: 'block-reply', id: idOfBlock, hash: sha(block), data: Buffer.alloc(2000) }); // the second answer: ignored
  expect((await a)?.equals(block)).toBe(true);
  const other = held.find((r) => r.hash === '77'.repeat(32))!;
  quiet.onReply({ kind: 'block-reply', id: other.id, hash: other.hash });
  expect(await b).toBeUndefined();
  expect(quiet.requestsInFlight).toBe(0);
});

test('requests on one signal share one abort listener, gone with the last of them; a request nobody answers fails after the reply timeout', async () => {
  const asked: Request[] = [];
  const requester = new BlockRequester('silent', async (m) => {
    if (m.kind === 'block-request') asked.push(m);
  }, 64, undefined, undefined, 200);
  const ctl = new AbortController();
  let listeners = 0;
  const add = ctl.signal.addEventListener.bind(ctl.signal);
  const remove = ctl.signal.removeEventListener.bind(ctl.signal);
  ctl.signal.addEventListener = ((...a: Parameters<typeof add>) => (listeners++, add(...a))) as typeof add;
  ctl.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listeners--, remove(...a))) as typeof remove;
  const t0 = performance.now();
  const all = Array.from({ length: 20 }, (_, i) => requester.request(sha(Buffer.from([i])), 1, ctl.signal).catch((e: unknown) => e));
  await until(() => asked.length === 20);
  expect(listeners).toBe(1);
  // One answered: the others still wait, on the same listener.
  requester.onReply({ kind: 'block-reply', id: asked[0].id, hash: asked[0].hash, data: Buffer.from([0]) });
  expect(await all[0]).toEqual(Buffer.from([0]));
  expect(listeners).toBe(1);
  const failed = await Promise.all(all.slice(1));
  expect(failed.every((e) => isSyncError(e, 'SYNC_BLOCK_FAILED'))).toBe(true);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
  expect(listeners).toBe(0);
  expect(requester.requestsInFlight).toBe(0);
});
