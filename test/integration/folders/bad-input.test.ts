/** What a peer sends wrong over a real link is refused, logged and shown, and the link stays useful. */
import { appendBatch, encodeCheckpoint, type NewChange } from '../../../plugin/src/log';
import { encodeMessage, sealEnvelope } from '../../../plugin/src/sync';
import type { ServiceEvent } from '../../../plugin/src/folders';
import { fileMeta } from '../../vectors/fixtures';
import { Net, read, SYNC_SERVICE, until, write } from './helpers';

jest.setTimeout(150_000);

const net = new Net();
afterEach(() => net.cleanup());

test('a tampered entry, a forged checkpoint, malformed bytes and lying counts are refused; the next real change still arrives', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  await net.friends(alice, bob);
  const folder = await net.create(alice, 'Shared', { 'one.txt': 'one' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'one.txt' && f.state === 'synced'), 'alice announcing');
  const a = net.root(alice, 'Shared');
  const b = await net.invite(alice, folder, bob, 'writer');
  await until([alice, bob], async () => (await read(b, 'one.txt')) === 'one', 'bob receiving');
  const problems: ServiceEvent[] = [];
  const sub = alice.service.events.subscribe((e) => e.type === 'problem' && problems.push(e));

  const send = (bytes: Uint8Array): Promise<number> => bob.client.sendLink(alice.fingerprint, SYNC_SERVICE, sealEnvelope(folder, bytes));
  const signer = { sign: async (m: Uint8Array) => (await bob.client.sign(m)).signature };
  const change = (author: string, p: string): NewChange => ({ folder, author, wallTimeMs: Date.now(), body: { op: 'put', path: p, meta: fileMeta(p) }, parents: [] });

  // 1. Bob's own next entry with one byte changed after signing: its hash no longer matches the checkpoint.
  const bobTip = bob.service.running(folder)!.replica.tip();
  const honest = await appendBatch(bobTip, [change(bob.fingerprint, 'tampered.txt')], signer);
  const tampered = Buffer.from(honest.entries[0].bytes);
  tampered[tampered.length - 5] ^= 0xff;
  await send(encodeMessage({ kind: 'entries', folder, entries: [tampered], checkpoints: [encodeCheckpoint(honest.checkpoint!)] }));
  // 2. An entry in Alice's feed, its checkpoint signed by Bob's key: a forgery.
  const aliceTip = alice.service.running(folder)!.replica.tip();
  const forged = await appendBatch(aliceTip, [change(alice.fingerprint, 'forged.txt')], signer);
  await send(encodeMessage({ kind: 'entries', folder, entries: forged.entries.map((e) => e.bytes), checkpoints: [encodeCheckpoint(forged.checkpoint!)] }));
  // 3. Garbage, an unknown kind, and a list whose count lies about its length.
  await send(Buffer.from('definitely not a sync message'));
  await send(Buffer.from([0x63, 1, 2, 3]));
  const lying = Buffer.from(encodeMessage({ kind: 'caught-up', folder, vector: [] }));
  lying[lying.length - 1] = 0x7f;
  await send(lying);

  await until([alice], () => problems.filter((p) => p.type === 'problem' && p.code === 'PEER_REFUSED').length >= 2 && problems.filter((p) => p.type === 'problem' && p.code === 'PEER_MALFORMED').length >= 3, 'alice refusing all five');
  const replica = alice.service.running(folder)!.replica;
  expect(await replica.state.resolve('tampered.txt')).toBeUndefined();
  expect(await replica.state.resolve('forged.txt')).toBeUndefined();

  // The link is still useful: Bob's next real change arrives.
  await write(b, 'after.txt', 'still friends');
  await until([alice, bob], async () => (await read(a, 'after.txt')) === 'still friends', 'bob’s real change after the garbage');
  sub.unsubscribe();
});
