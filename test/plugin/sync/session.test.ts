import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { filter, firstValueFrom, ReplaySubject, throwError, timeout, type Subject } from 'rxjs';
import { appendBatch, decodeEntry, encodeCheckpoint, type BlockRef } from '../../../plugin/src/log';
import { PROTOCOL_VERSION, vectorEntries } from '../../../plugin/src/sync';
import { hostSigner } from '../replica/helpers';
import { fileMeta } from '../../vectors/fixtures';
import { snapshot } from '../folder/helpers';
import { caughtUp, FOLDER, nextEvent, SyncCluster, until, type SyncNode } from './helpers';
import { cut, duplex, type End } from './duplex';
import type { SessionOptions, SyncMessage, SyncSession } from '../../../plugin/src/sync';

jest.setTimeout(60_000);

const cluster = new SyncCluster();
beforeAll(() => cluster.init());
afterEach(() => cluster.cleanup());

const write = (n: SyncNode, p: string, data: string | Buffer) => fsp.mkdir(path.dirname(path.join(n.root, p)), { recursive: true }).then(() => fsp.writeFile(path.join(n.root, p), data));

/** The node's log has a live winner at `p` and the disk holds exactly `bytes` there. */
async function holds(n: SyncNode, p: string, bytes: string | Buffer): Promise<boolean> {
  const r = await n.replica.state.resolve(p);
  if (!r?.winner.live) return false;
  const onDisk = await fsp.readFile(path.join(n.root, p)).catch(() => undefined);
  return onDisk !== undefined && Buffer.compare(onDisk, Buffer.from(bytes)) === 0;
}

/** The blocks of the file the node's log has at `p`. */
async function blocksOf(n: SyncNode, p: string): Promise<readonly BlockRef[]> {
  const r = await n.replica.state.resolve(p);
  const body = decodeEntry((await n.store.entry(r!.winner.hash))!.bytes).body;
  return body.op === 'delete' ? [] : body.meta.blocks;
}

async function converged(a: SyncNode, b: SyncNode): Promise<boolean> {
  if ((await a.replica.state.stateHash()) !== (await b.replica.state.stateHash())) return false;
  return JSON.stringify([...(await snapshot(a.root))]) === JSON.stringify([...(await snapshot(b.root))]);
}

async function files(n: SyncNode, fs: Record<string, string | Buffer>): Promise<void> {
  for (const [p, d] of Object.entries(fs)) await write(n, p, d);
  await until([n], async () => {
    for (const [p, d] of Object.entries(fs)) if (!(await holds(n, p, d))) return false;
    return true;
  }, `${n.name} announcing ${Object.keys(fs).join(', ')}`);
}


test('Alice’s files reach Bob byte for byte over the protocol, blocks fetched from her; then Bob’s edits reach Alice', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const big = randomBytes(600 * 1024); // several 128 KiB blocks, fetched with BlockRequests
  await files(alice, { 'a.txt': 'from alice', 'sub/big.bin': big });

  const link = await cluster.connect(alice, bob);
  await until([alice, bob], () => converged(alice, bob), 'bob getting alice’s files');
  expect(Buffer.compare(await fsp.readFile(path.join(bob.root, 'sub/big.bin')), big)).toBe(0);
  expect(await bob.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
  const [ea, eb] = link.ends;
  const needed = (await blocksOf(alice, 'sub/big.bin')).length + (await blocksOf(alice, 'a.txt')).length;
  expect(needed).toBeGreaterThan(1);
  // Both speak protocol 2: blocks asked in BlockRequests, answered in BlockReplies, each exactly once.
  expect(eb.kinds().filter((k) => k === 'block-request')).toEqual([]);
  expect(eb.messages('block-requests').flatMap((m) => m.requests).length).toBe(needed);
  expect(ea.messages('block-replies').flatMap((m) => m.replies).length).toBe(needed);
  expect(ea.messages('block-replies').every((m) => m.replies.every((r) => r.data !== undefined))).toBe(true);
  expect(ea.errors).toEqual([]);
  expect(eb.errors).toEqual([]);

  // Bob edits while connected: pushed to Alice as it happens.
  await files(bob, { 'a.txt': 'bob edited this', 'new/from-bob.txt': 'hello alice' });
  await until([alice, bob], async () => (await holds(alice, 'new/from-bob.txt', 'hello alice')) && (await holds(alice, 'a.txt', 'bob edited this')) && (await converged(alice, bob)), 'alice getting bob’s edits');
  // What Alice received from Bob was not sent back to him: Alice only ever sent Bob her own feed.
  const authorsSentToBob = new Set(ea.messages('entries').flatMap((m) => m.entries.map((e) => decodeEntry(e).author)));
  expect(authorsSentToBob).toEqual(new Set([alice.id.fingerprint]));
  expect((await alice.replica.versionVector()).get(bob.id.fingerprint)?.seq).toBeGreaterThan(0);
});

test('two nodes already in sync exchange a few hundred bytes, the same for 10 and 1,000 entries', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const measure = async (): Promise<{ a: number; b: number; kinds: string[] }> => {
    const link = await cluster.connect(alice, bob);
    await Promise.all([caughtUp(link.a, 'alice caught up'), caughtUp(link.b, 'bob caught up')]);
    await Promise.all([alice.engine.idle(), bob.engine.idle()]);
    const [ea, eb] = link.ends;
    const out = { a: ea.bytesSent, b: eb.bytesSent, kinds: [...ea.kinds(), ...eb.kinds()] };
    await link.close();
    return out;
  };
  const append = async (from: number, n: number): Promise<void> => {
    const changes = Array.from({ length: n }, (_, i) => ({ folder: FOLDER, author: alice.id.fingerprint, wallTimeMs: Date.now(), body: { op: 'delete' as const, path: `gone/${from + i}` }, parents: [] }));
    await alice.replica.appendLocal(changes);
  };

  await append(0, 10);
  const first = await cluster.connect(alice, bob);
  await caughtUp(first.b, 'bob getting 10 entries');
  await first.close();
  const small = await measure();

  await append(10, 990);
  const second = await cluster.connect(alice, bob);
  await caughtUp(second.b, 'bob getting 1,000 entries');
  await bob.engine.idle();
  await second.close();
  expect((await bob.replica.versionVector()).get(alice.id.fingerprint)?.seq).toBe(1000);
  expect(await bob.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
  const large = await measure();

  for (const m of [small, large]) {
    expect(new Set(m.kinds)).toEqual(new Set(['hello', 'manifest', 'vector', 'caught-up']));
    // Each side's Hello, and each answering the other's first Hello once (see the next test).
    expect(m.kinds).toHaveLength(10);
    expect(m.a + m.b).toBeLessThan(600);
  }
  // Only seq 10 → 1000 grows a varint by one byte, in each side's Vector and CaughtUp.
  expect(Math.abs(large.a + large.b - (small.a + small.b))).toBeLessThanOrEqual(4);
  console.log(`in sync: ${small.a + small.b} bytes at 10 entries, ${large.a + large.b} bytes at 1,000 entries`);
});

test('offline catch-up: after a reconnect only the entries Bob missed travel', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await files(alice, { 'one.txt': '1', 'two.txt': '2', 'three.txt': '3' });
  const link = await cluster.connect(alice, bob);
  await until([alice, bob], () => converged(alice, bob), 'first sync');
  await link.close();
  const seqBefore = (await bob.replica.versionVector()).get(alice.id.fingerprint)!.seq;

  await files(alice, { 'four.txt': '4', 'two.txt': 'two, edited' });
  const seqAfter = (await alice.replica.versionVector()).get(alice.id.fingerprint)!.seq;
  expect(seqAfter).toBeGreaterThan(seqBefore);
  expect(await holds(bob, 'four.txt', '4')).toBe(false);

  const again = await cluster.connect(alice, bob);
  await until([alice, bob], () => converged(alice, bob), 'catch-up');
  const [ea] = again.ends;
  // Every entry carried is one Bob lacked: seqs seqBefore+1 .. seqAfter, each once.
  const seqs = ea.messages('entries').flatMap((m) => m.entries.map((e) => decodeEntry(e).seq));
  expect(seqs).toEqual(Array.from({ length: seqAfter - seqBefore }, (_, i) => seqBefore + 1 + i));
  expect(ea.kinds().filter((k) => k === 'entries').length).toBeGreaterThan(0);
  expect(await fsp.readFile(path.join(bob.root, 'two.txt'), 'utf8')).toBe('two, edited');
});

/** Alice with 301 entries in 7 checkpointed appends; Bob's engine records what each ingest of entries was told. */
async function backlog(): Promise<{ alice: SyncNode; bob: SyncNode; seq: number; said: Array<{ more: boolean | undefined; last: number }> }> {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await files(alice, { 'first.txt': 'x' });
  // Six appends, each with its checkpoint: a batch ends at a checkpoint.
  for (let k = 0; k < 6; k++) await alice.replica.appendLocal(Array.from({ length: 50 }, (_, i) => ({ folder: FOLDER, author: alice.id.fingerprint, wallTimeMs: Date.now(), body: { op: 'delete' as const, path: `gone/${k}/${i}` }, parents: [] })));
  const seq = (await alice.replica.versionVector()).get(alice.id.fingerprint)!.seq;
  const said: Array<{ more: boolean | undefined; last: number }> = [];
  const ingest = bob.engine.ingest.bind(bob.engine);
  bob.engine.ingest = (input, from) => {
    const entries = input.entries ?? [];
    if (entries.length > 0) said.push({ more: from?.more, last: decodeEntry(entries[entries.length - 1]).seq });
    return ingest(input, from);
  };
  return { alice, bob, seq, said };
}

async function caughtUpTo(alice: SyncNode, bob: SyncNode, seq: number): Promise<void> {
  await until([alice, bob], async () => (await holds(bob, 'first.txt', 'x')) && (await bob.replica.versionVector()).get(alice.id.fingerprint)?.seq === seq, 'bob catching up');
}

test('a catch-up in several batches tells the engine that more follows, all but the last: their apply waits for the log', async () => {
  const { alice, bob, seq, said } = await backlog();
  const link = await cluster.connect(alice, bob, { session: { batchEntries: 50 } });
  await caughtUpTo(alice, bob, seq);
  expect(said.length).toBeGreaterThan(3);
  expect(said.map((s) => s.more)).toEqual(said.map((s) => s.last < seq));
  expect(said[said.length - 1]).toEqual({ more: false, last: seq });
  // The sender said so on the wire (version 3): on every batch message but the last.
  const flagged = link.ends[0].messages('entries').filter((m) => m.checkpoints.length > 0).map((m) => m.more === true);
  expect(flagged).toEqual(said.map((s) => s.last < seq));
});

test('more follows even when the sender’s Vector was lost (a restarted peer): the batches say it', async () => {
  const { alice, bob, seq, said } = await backlog();
  let dropped = 0;
  await lossyLink(alice, bob, (m) => m.kind === 'vector' && dropped++ === 0, { batchEntries: 50 });
  await caughtUpTo(alice, bob, seq);
  expect(dropped).toBeGreaterThan(0);
  expect(said.length).toBeGreaterThan(3);
  expect(said.map((s) => s.more)).toEqual(said.map((s) => s.last < seq));
});

/**
 * Sessions between `a` and `b` whose link from `a` loses the messages `lose` picks (as a host
 * that could not queue a delivery does), each kept in `lost`.
 */
async function lossyLink(
  a: SyncNode,
  b: SyncNode,
  lose: (m: SyncMessage) => boolean,
  session: Partial<SessionOptions> = {},
): Promise<{ a: SyncSession; b: SyncSession; lost: SyncMessage[]; lost$: Subject<SyncMessage>; fromB: End }> {
  const [ea, eb] = duplex();
  const lost: SyncMessage[] = [];
  // Each loss as it happens: what a test waits for (no engine event follows a lost CaughtUp).
  const lost$ = new ReplaySubject<SyncMessage>();
  const lossy = Object.assign(Object.create(ea) as End, {
    send: (m: SyncMessage): Promise<void> => {
      if (!lose(m)) return ea.send(m);
      lost.push(m);
      lost$.next(m);
      return Promise.resolve();
    },
  });
  const sa = cluster.session(a, b.name, lossy, session);
  const sb = cluster.session(b, a.name, eb, session);
  cluster.links.push({ a: sa, b: sb, ends: [ea, eb], close: async () => cut(ea) });
  await Promise.all([sa.start(), sb.start()]);
  return { a: sa, b: sb, lost, lost$, fromB: eb };
}

test('lost entries are sent again: after a CaughtUp that shows Bob behind he asks from his vector, and after a resync Alice starts from his word, not from what she sent', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  // Three scan batches: three checkpoints, so three entries messages with batchEntries 1.
  await files(alice, { 'a1.txt': 'a1', 'a2.txt': 'a2' });
  await files(alice, { 'b1.txt': 'b1', 'b2.txt': 'b2' });
  await files(alice, { 'c1.txt': 'c1', 'c2.txt': 'c2' });
  let entriesSent = 0;
  let lose = (m: SyncMessage): boolean => m.kind === 'entries' && ++entriesSent === 1;
  const link = await lossyLink(alice, bob, (m) => lose(m), { batchEntries: 1 });
  // The first batch was lost, the next two are refused (they do not link to Bob's tip); the
  // CaughtUp shows Bob behind, so he says his vector again and Alice sends from there.
  await until([alice, bob], () => converged(alice, bob), 'bob getting every file after the first batch was lost');
  expect(link.lost.map((m) => m.kind)).toEqual(['entries']);
  expect(link.fromB.messages('vector').length).toBe(2);

  // Now a batch and its CaughtUp are lost: only the host's notice (a resync) can tell Bob.
  lose = (m) => m.kind === 'entries' || m.kind === 'caught-up';
  await files(alice, { 'd1.txt': 'd1' });
  // Waited for as it happens: the CaughtUp goes after Alice's last engine event, which `until` would need to look again.
  await firstValueFrom(link.lost$.pipe(filter((m) => m.kind === 'caught-up'), timeout({ first: 20_000, with: () => throwError(() => new Error('alice sending d1 (lost): no CaughtUp lost within 20 s')) })));
  expect(await holds(bob, 'd1.txt', 'd1')).toBe(false);
  lose = () => false;
  await link.b.resync();
  await until([alice, bob], () => converged(alice, bob), 'bob getting d1 after his resync');
  expect(await fsp.readFile(path.join(bob.root, 'd1.txt'), 'utf8')).toBe('d1');
});

test('a first Vector lost (said before the peer’s sidecar listened, both having restarted): the CaughtUp answering the peer’s Vector says as much, and the peer pushes from it', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await files(alice, { 'one.txt': '1', 'two.txt': '2' });
  await files(bob, { 'bob.txt': 'b' });
  let vectors = 0;
  // Bob's Vector is lost; Alice's reaches him, and his entries for her, then his CaughtUp, reach her.
  const link = await lossyLink(bob, alice, (m) => m.kind === 'vector' && ++vectors === 1);
  await until([alice, bob], () => converged(alice, bob), 'each getting the other’s files without bob’s Vector reaching alice');
  expect(link.lost.map((m) => m.kind)).toEqual(['vector']);
  expect(await fsp.readFile(path.join(bob.root, 'two.txt'), 'utf8')).toBe('2');
  expect(await fsp.readFile(path.join(alice.root, 'bob.txt'), 'utf8')).toBe('b');
});

test('two peers send Carol the same catch-up at once over links that lose messages: she ends with everything, nothing asked for in a loop', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  for (const burst of ['a', 'b', 'c', 'd']) await files(alice, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${burst}/f${i}.txt`, `${burst}${i}`])));
  await cluster.connect(alice, bob);
  await until([alice, bob], () => converged(alice, bob), 'bob getting alice’s files');
  const carol = await cluster.node('carol', alice);
  // Entries go in messages of about 1 KiB, so a batch is several messages; each link loses
  // its 5th, 10th and 15th entries message (the front of a batch, its end, or a whole one).
  const every5 = (): ((m: SyncMessage) => boolean) => {
    let n = 0;
    return (m) => m.kind === 'entries' && ++n % 5 === 0 && n <= 15;
  };
  const opts = { maxMessageEntryBytes: 1024 };
  const [fromAlice, fromBob] = await Promise.all([lossyLink(alice, carol, every5(), opts), lossyLink(bob, carol, every5(), opts)]);
  await until([alice, bob, carol], () => converged(alice, carol), 'carol getting every file from two lossy senders');
  expect(fromAlice.lost.length + fromBob.lost.length).toBe(6);
  // Carol asked again only as often as she had moved on: bounded, far below one ask per message.
  const asks = fromAlice.fromB.messages('vector').length + fromBob.fromB.messages('vector').length;
  expect(asks).toBeLessThan(2 + 2 * (fromAlice.lost.length + fromBob.lost.length) + 4);
});

/** Alice with a backlog of `appends` x 50 entries, each append checkpointed (a batch each), and Bob holding all of it. */
async function sharedBacklog(appends: number, carolOpts: { sourceStallMs?: number } = {}): Promise<{ alice: SyncNode; bob: SyncNode; carol: SyncNode; seq: number }> {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await files(alice, { 'first.txt': 'x' });
  for (let k = 0; k < appends; k++) await alice.replica.appendLocal(Array.from({ length: 50 }, (_, i) => ({ folder: FOLDER, author: alice.id.fingerprint, wallTimeMs: Date.now(), body: { op: 'delete' as const, path: `gone/${k}/${i}` }, parents: [] })));
  const seq = (await alice.replica.versionVector()).get(alice.id.fingerprint)!.seq;
  // In batches of one append: Bob keeps each checkpoint, so his own pushes come in batches too.
  const ab = await cluster.connect(alice, bob, { session: { batchEntries: 50 } });
  await until([alice, bob], async () => (await bob.replica.versionVector()).get(alice.id.fingerprint)?.seq === seq, 'bob getting the backlog');
  await ab.close();
  const carol = await cluster.node('carol', alice, carolOpts);
  return { alice, bob, carol, seq };
}

const entriesCarried = (end: End): number => end.messages('entries').reduce((n, m) => n + m.entries.length, 0);

test('two peers with the same backlog for Carol: the author sends it, the relay holds it from its Hello on and sends almost none of it; afterwards both know what she has', async () => {
  const { alice, bob, carol, seq } = await sharedBacklog(30);
  const author = alice.id.fingerprint;
  // Small lanes: a sender cannot put its whole backlog in flight before Carol answers.
  const opts = { maxBytes: 16 * 1024, session: { batchEntries: 50 } };
  const [ac, bc] = await Promise.all([cluster.connect(alice, carol, opts), cluster.connect(bob, carol, opts)]);
  await until([alice, bob, carol], async () => (await carol.replica.versionVector()).get(author)?.seq === seq, 'carol getting the backlog');
  // Bob was told to hold Alice's feed (and Alice Bob's, which has nothing): never a feed of its own.
  expect(bc.ends[1].messages('hold').flatMap((m) => m.authors)).toContain(author);
  expect(ac.ends[1].messages('hold').flatMap((m) => m.authors)).not.toContain(author);
  // Without the hold each sends all of it; Bob sent at most what was under way when it came.
  expect(entriesCarried(ac.ends[0])).toBe(seq);
  expect(entriesCarried(bc.ends[0])).toBeLessThan(seq / 4);
  // Once Alice was done, Carol's Vector went to Bob: both views of her are whole.
  await until([alice, bob, carol], async () => [ac.a, bc.a].every((s) => s.view().advertised?.get(author)?.seq === seq), 'alice and bob knowing carol has everything');
  await until([alice, carol], () => converged(alice, carol), 'carol converging');
});

test('a source that goes silent mid-backlog holds nobody back: after the stall time the held peer sends the rest', async () => {
  const { alice, bob, carol, seq } = await sharedBacklog(20, { sourceStallMs: 2000 });
  const author = alice.id.fingerprint;
  // Alice's link loses every entries message after her third, and her CaughtUp: she is the
  // source (heard first) and then says nothing Carol hears.
  let sent = 0;
  await lossyLink(alice, carol, (m) => (m.kind === 'entries' && ++sent > 3) || m.kind === 'caught-up', { batchEntries: 50 });
  await until([alice, carol], async () => ((await carol.replica.versionVector()).get(author)?.seq ?? 0) > 0, 'carol hearing alice first');
  const bc = await cluster.connect(bob, carol, { maxBytes: 16 * 1024, session: { batchEntries: 50 } });
  await until([alice, bob, carol], async () => (await carol.replica.versionVector()).get(author)?.seq === seq, 'carol getting the rest from bob');
  // Bob was held (Alice, the author, was the source when he spoke), then asked to resume from
  // where Carol was, without a second Vector (which would restart every push of his).
  expect(bc.ends[1].messages('hold').map((m) => m.authors)).toEqual([[author]]);
  const [resume] = bc.ends[1].messages('resume');
  expect(resume.feeds.map((f) => f.author)).toEqual([author]);
  expect(resume.feeds[0].seq).toBeGreaterThan(0);
  expect(resume.feeds[0].seq).toBeLessThan(seq);
  expect(bc.ends[1].messages('vector').length).toBe(1);
});

test('the first Hello of a peer is answered with ours, once: an inviter whose Hello went before the peer held the folder still gets batched block requests', async () => {
  const alice = await cluster.node('alice');
  await files(alice, { 'a.txt': 'x' });
  const { peer, got, arrived } = await cluster.raw(alice, 'bob');
  expect(got.filter((m) => m.kind === 'hello')).toHaveLength(1);
  await peer.send({ kind: 'hello', protocolVersion: 2, folders: [FOLDER] });
  await arrived(() => got.filter((m) => m.kind === 'hello').length === 2, 'alice answering the hello');
  await peer.send({ kind: 'hello', protocolVersion: 2, folders: [FOLDER] });
  await peer.send({ kind: 'vector', folder: FOLDER, entries: [] });
  await arrived((m) => m.kind === 'caught-up', 'the caught-up after the second hello');
  expect(got.filter((m) => m.kind === 'hello')).toEqual([
    { kind: 'hello', protocolVersion: PROTOCOL_VERSION, folders: [FOLDER] },
    { kind: 'hello', protocolVersion: PROTOCOL_VERSION, folders: [FOLDER] },
  ]);
});

test('a friend who is not a member gets one Refusal and nothing else, whatever it sends', async () => {
  const alice = await cluster.node('alice');
  await files(alice, { 'secret.txt': 'for members only' });
  const { peer, got, session, arrived } = await cluster.raw(alice, 'dave');
  const [block] = await blocksOf(alice, 'secret.txt');
  const events: string[] = [];
  session.events.subscribe((e) => events.push(e.type));
  await peer.send({ kind: 'hello', protocolVersion: 1, folders: [FOLDER] });
  await peer.send({ kind: 'manifest', folder: FOLDER, head: '0'.repeat(64), chain: [] });
  await peer.send({ kind: 'vector', folder: FOLDER, entries: [] });
  await peer.send({ kind: 'block-request', id: 1, hash: block.hash, size: block.size });
  const forged = await appendBatch(null, [{ folder: FOLDER, author: cluster.ids.dave.fingerprint, wallTimeMs: Date.now(), body: { op: 'put', path: 'x', meta: fileMeta('x') }, parents: [] }], hostSigner(cluster.ids.dave));
  await peer.send({ kind: 'entries', folder: FOLDER, entries: forged.entries.map((e) => e.bytes), checkpoints: [encodeCheckpoint(forged.checkpoint!)] });
  // A valid vector after everything: answered (by a refusal) only once all of the above were handled.
  await peer.send({ kind: 'vector', folder: FOLDER, entries: [] });
  await peer.drained();
  await arrived(() => true, 'the refusal');
  await alice.engine.idle();
  // Handled, all of it (the duplex waited for each receive), and none of it reached the engine.
  expect(events).toEqual(['sync:refused-peer']);
  expect(peer.errors).toEqual([]);
  expect(got).toEqual([{ kind: 'refusal', folder: FOLDER, code: 'NOT_A_MEMBER', message: expect.any(String) }]);
  expect((await alice.replica.versionVector()).has(cluster.ids.dave.fingerprint)).toBe(false);
});

test('a reader’s entries are refused by Alice’s ingest, reported, and never served to Bob; the session goes on', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  await files(alice, { 'doc.txt': 'v1' });
  const { peer, got, session, arrived } = await cluster.raw(alice, 'carol');
  const carol = cluster.ids.carol;
  const forged = await appendBatch(null, [{ folder: FOLDER, author: carol.fingerprint, wallTimeMs: Date.now(), body: { op: 'put', path: 'doc.txt', meta: fileMeta('carol') }, parents: [] }], hostSigner(carol));
  const refused = nextEvent(session, (e) => e.type === 'sync:refused-input', 'alice refusing carol');
  await peer.send({ kind: 'entries', folder: FOLDER, entries: forged.entries.map((e) => e.bytes), checkpoints: [encodeCheckpoint(forged.checkpoint!)] });
  const ev = await refused;
  expect(ev.type === 'sync:refused-input' && ev.refusals.map((r) => r.reason)).toContain('NOT_A_WRITER');
  await arrived((m) => m.kind === 'refusal' && m.code === 'ENTRIES_REFUSED', 'carol told');
  expect((await alice.replica.versionVector()).has(carol.fingerprint)).toBe(false);

  // Carol is a member (a reader): her Vector is answered with what she lacks, then CaughtUp.
  await peer.send({ kind: 'vector', folder: FOLDER, entries: [] });
  await arrived((m) => m.kind === 'caught-up', 'carol served');
  expect(got.filter((m) => m.kind === 'entries').flatMap((m) => (m.kind === 'entries' ? m.entries.map((e) => decodeEntry(e).author) : []))).toEqual([alice.id.fingerprint]);

  const link = await cluster.connect(alice, bob);
  await until([alice, bob], () => converged(alice, bob), 'bob syncing');
  expect((await bob.replica.versionVector()).has(carol.fingerprint)).toBe(false);
  expect(await fsp.readFile(path.join(bob.root, 'doc.txt'), 'utf8')).toBe('v1');
});

test('a malformed message is a typed error and the session survives: the next valid message works', async () => {
  const alice = await cluster.node('alice');
  await files(alice, { 'a.txt': 'x' });
  const { peer, mine, got, session, arrived } = await cluster.raw(alice, 'bob');
  const malformed = nextEvent(session, (e) => e.type === 'sync:malformed', 'malformed event');
  await peer.sendRaw(Buffer.from([3, 1, 2, 3]));
  await peer.sendRaw(Buffer.from([42]));
  const ev = await malformed;
  // A folder message is decoded when its turn on the ordered path comes: wait until both were handled.
  await peer.drained();
  expect(ev.type === 'sync:malformed' && ev.error.code).toBe('SYNC_MALFORMED');
    expect(peer.errors.map((e) => (e as { code?: string }).code)).toEqual(['SYNC_MALFORMED', 'SYNC_MALFORMED']);
  // Nothing was answered to the garbage: only the start messages so far.
  expect(got.map((m) => m.kind)).toEqual(['hello', 'manifest', 'vector']);

  await peer.send({ kind: 'vector', folder: FOLDER, entries: [] });
  await arrived((m) => m.kind === 'caught-up', 'served after the garbage');
  const vector = vectorEntries(await alice.replica.versionVector());
  expect(got[got.length - 1]).toEqual({ kind: 'caught-up', folder: FOLDER, vector });
  expect(mine.errors).toEqual([]);
});

test('three nodes: Bob relays Alice’s files to Carol (a reader), never back to Alice; Carol fetches blocks from Bob', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const carol = await cluster.node('carol', alice);
  const ab = await cluster.connect(alice, bob);
  const bc = await cluster.connect(bob, carol);
  const data = randomBytes(300 * 1024);
  await files(alice, { 'shared/report.bin': data, 'note.txt': 'for everyone' });
  await until([alice, bob, carol], async () => (await converged(alice, bob)) && (await converged(bob, carol)) && (await holds(carol, 'shared/report.bin', data)), 'carol getting alice’s files through bob');
  const [bobToAlice] = [ab.ends[1]];
  expect(bobToAlice.messages('entries')).toEqual([]);
  // Carol asked Bob for the blocks (she has no link to Alice) and got every one of them.
  const [bobToCarol, carolToBob] = bc.ends;
  expect(carolToBob.messages('block-requests').flatMap((m) => m.requests).length).toBe((await blocksOf(alice, 'shared/report.bin')).length + (await blocksOf(alice, 'note.txt')).length);
  expect(bobToCarol.messages('block-replies').every((m) => m.replies.every((r) => r.data !== undefined))).toBe(true);
  expect(await carol.replica.state.stateHash()).toBe(await alice.replica.state.stateHash());
});

test('tight bounds: 16 KiB per lane, 2 KiB of entries per message; 1,000 entries and a multi-block file still converge, no queue over its bound', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const data = randomBytes(400 * 1024);
  await files(alice, { 'big.bin': data });
  await alice.replica.appendLocal(Array.from({ length: 1000 }, (_, i) => ({ folder: FOLDER, author: alice.id.fingerprint, wallTimeMs: Date.now(), body: { op: 'delete' as const, path: `gone/${i}` }, parents: [] })));
  const link = await cluster.connect(alice, bob, { maxBytes: 16 * 1024, session: { maxMessageEntryBytes: 2048 } });
  await until([alice, bob], async () => (await holds(bob, 'big.bin', data)) && (await bob.replica.state.stateHash()) === (await alice.replica.state.stateHash()), 'bob converging through narrow pipes');
  const [ea, eb] = link.ends;
  // The long batch went in many messages, only the last of each batch with checkpoints.
  const batches = ea.messages('entries');
  expect(batches.length).toBeGreaterThan(20);
  expect(batches.reduce((n, m) => n + m.entries.length, 0)).toBe((await alice.replica.versionVector()).get(alice.id.fingerprint)!.seq);
  for (const end of [ea, eb]) for (const lane of [end.lanes.ordered, end.lanes.blocks]) expect(lane.peak).toBeLessThanOrEqual(Math.max(16 * 1024, lane.largest));
  expect(ea.lanes.ordered.peak).toBeLessThanOrEqual(16 * 1024);
  expect(ea.errors).toEqual([]);
  expect(eb.errors).toEqual([]);
});

test('a removed member gets nothing written after the removal, not even the manifest that removed them', async () => {
  const alice = await cluster.node('alice');
  const bob = await cluster.node('bob', alice);
  const carol = await cluster.node('carol', alice);
  await files(alice, { 'before.txt': 'carol may read this' });
  const ab = await cluster.connect(alice, bob);
  const ac = await cluster.connect(alice, carol);
  await until([alice, bob, carol], async () => (await converged(alice, bob)) && (await converged(alice, carol)), 'both members synced');
  const [aliceToCarol] = ac.ends;
  const sentBefore = aliceToCarol.sent.length;
  const carolSeq = (await carol.replica.versionVector()).get(alice.id.fingerprint)!.seq;

  await alice.replica.editManifest({ kind: 'remove', fingerprint: carol.id.fingerprint });
  ab.a.nudge();
  ac.a.nudge();
  await files(alice, { 'after.txt': 'not for carol' });
  await until([alice, bob], async () => (await holds(bob, 'after.txt', 'not for carol')) && bob.replica.manifest().hash === alice.replica.manifest().hash, 'bob getting the removal and the new file');

  expect(aliceToCarol.sent.slice(sentBefore)).toEqual([]);
  expect((await carol.replica.versionVector()).get(alice.id.fingerprint)!.seq).toBe(carolSeq);
  expect(carol.replica.manifest().manifest.members.some((m) => m.fingerprint === carol.id.fingerprint)).toBe(true);
  expect(await fsp.readFile(path.join(carol.root, 'after.txt')).catch(() => undefined)).toBeUndefined();
});

test('protocol versions: a version-1 peer gets single BlockRequests and BlockReplies (its refusal of our version ignored); a version-2 peer gets them in batches; a peer asking too much at once is told "not here"', async () => {
  const alice = await cluster.node('alice');
  await files(alice, { 'big.bin': randomBytes(2 * 1024 * 1024) });
  const blocks = await blocksOf(alice, 'big.bin');
  expect(blocks.length).toBeGreaterThan(2);
  const sizeOf = new Map(blocks.map((b) => [b.hash, b.size]));

  // Version 1.
  const old = await cluster.raw(alice, 'bob');
  const events: string[] = [];
  old.session.events.subscribe((e) => events.push(e.type));
  await old.peer.send({ kind: 'hello', protocolVersion: 1, folders: [FOLDER] });
  await old.peer.send({ kind: 'refusal', folder: FOLDER, code: 'PROTOCOL_VERSION', message: 'this node speaks version 1' });
  await old.peer.send({ kind: 'block-request', id: 7, hash: blocks[0].hash, size: blocks[0].size });
  const reply = await old.arrived((m) => m.kind === 'block-reply', 'the single reply');
  expect(reply.kind === 'block-reply' && reply.id === 7 && reply.data?.length === blocks[0].size).toBe(true);
  const asked = alice.blocks.read('ab'.repeat(32), 10).catch(() => undefined);
  const request = await old.arrived((m) => m.kind === 'block-request', 'a single request from Alice');
  expect(request.kind === 'block-request' && request.hash).toBe('ab'.repeat(32));
  if (request.kind === 'block-request') await old.peer.send({ kind: 'block-reply', id: request.id, hash: request.hash });
  expect(await asked).toBeUndefined();
  expect(old.got.some((m) => m.kind === 'block-requests' || m.kind === 'block-replies')).toBe(false);
  expect(events).not.toContain('sync:refusal');
  await old.session.close(); // Alice's next request goes to the version-2 peer, not this one

  // Version 2: three asked in one message, one of them unknown; answered in order, in BlockReplies.
  const now = await cluster.raw(alice, 'carol');
  await now.peer.send({ kind: 'hello', protocolVersion: 2, folders: [FOLDER] });
  const unknown = 'cd'.repeat(32);
  await now.peer.send({ kind: 'block-requests', requests: [{ id: 1, hash: blocks[1].hash, size: blocks[1].size }, { id: 2, hash: unknown, size: 5 }, { id: 3, hash: blocks[2].hash, size: blocks[2].size }] });
  await now.arrived((m) => m.kind === 'block-replies' && m.replies.some((r) => r.id === 3), 'the batched replies');
  const replies = now.got.flatMap((m) => (m.kind === 'block-replies' ? m.replies : []));
  expect(replies.map((r) => [r.id, r.hash, r.data?.length])).toEqual([[1, blocks[1].hash, sizeOf.get(blocks[1].hash)], [2, unknown, undefined], [3, blocks[2].hash, sizeOf.get(blocks[2].hash)]]);
  const batched = alice.blocks.read('ef'.repeat(32), 10).catch(() => undefined);
  const requests = await now.arrived((m) => m.kind === 'block-requests', 'batched requests from Alice');
  expect(requests.kind === 'block-requests' && requests.requests.map((r) => r.hash)).toContain('ef'.repeat(32));
  if (requests.kind === 'block-requests') await now.peer.send({ kind: 'block-replies', replies: requests.requests.map((r) => ({ id: r.id, hash: r.hash })) });
  await batched;

  // More than 64 MiB asked at once: answered "not here" without reading anything.
  const many = Array.from({ length: 20 }, (_, i) => ({ id: 100 + i, hash: blocks[0].hash, size: 4 * 1024 * 1024 - 128 }));
  await now.peer.send({ kind: 'block-requests', requests: many });
  const refused = await now.arrived((m) => m.kind === 'block-replies' && m.replies.some((r) => r.id === 100), 'the excess answered');
  expect(refused.kind === 'block-replies' && refused.replies.every((r) => r.data === undefined)).toBe(true);
});
