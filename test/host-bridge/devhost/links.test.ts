import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, take, toArray } from 'rxjs';
import { HostError } from '../../../host-bridge/src/errors';
import { LINK_MAX_PAYLOAD_BYTES } from '../../../proto';
import type { DevhostNode } from '../../../host-bridge/src/devhost';
import { befriend, NodeFixture, waitFor, waitPeerOnline } from './helpers';

describe('devhost: two friends over secure links', () => {
  const fx = new NodeFixture();
  let alice: DevhostNode;
  let bob: DevhostNode;
  let A: string;
  let B: string;

  beforeAll(async () => {
    alice = await fx.node('Alice');
    bob = await fx.node('Bob');
    A = alice.self().fingerprint;
    B = bob.self().fingerprint;
    await befriend(alice, bob);
  });
  afterAll(() => fx.cleanup());

  test('each lists the other as an online friend', () => {
    expect(alice.peers()).toEqual([expect.objectContaining({ fingerprint: B, name: 'Bob', online: true, locationId: bob.self().locationId })]);
    expect(bob.peers()).toEqual([expect.objectContaining({ fingerprint: A, name: 'Alice', online: true })]);
    expect(alice.peers()[0].lastSeenMs).toBeGreaterThan(0);
  });

  test('Links payloads travel both ways on several services, 1 MiB intact', async () => {
    const big = randomBytes(1024 * 1024);
    const gotBobSync = firstValueFrom(bob.linkMessages('kinfolder.sync').pipe(take(2), toArray()));
    const gotBobOther = firstValueFrom(bob.linkMessages('other.svc').pipe(take(1)));
    const gotAlice = firstValueFrom(alice.linkMessages('kinfolder.sync').pipe(take(1)));
    await alice.sendLink(B, 'kinfolder.sync', Buffer.from('first'));
    await alice.sendLink(B, 'kinfolder.sync', big);
    await alice.sendLink(B, 'other.svc', Buffer.from('other'));
    await bob.sendLink(A, 'kinfolder.sync', Buffer.from('back'));
    const [m1, m2] = await gotBobSync;
    expect(m1).toEqual({ peer: A, service: 'kinfolder.sync', payload: Buffer.from('first') });
    expect(m2.payload.equals(big)).toBe(true);
    expect(await gotBobOther).toEqual({ peer: A, service: 'other.svc', payload: Buffer.from('other') });
    expect(await gotAlice).toEqual({ peer: B, service: 'kinfolder.sync', payload: Buffer.from('back') });
  });

  test('a payload of exactly the limit goes through; many sends in a row keep order (flow control)', async () => {
    const max = Buffer.alloc(LINK_MAX_PAYLOAD_BYTES, 7);
    const n = 40;
    const got = firstValueFrom(bob.linkMessages('order').pipe(take(n + 1), toArray()));
    await alice.sendLink(B, 'order', max);
    for (let i = 0; i < n; i++) await alice.sendLink(B, 'order', Buffer.alloc(256 * 1024, i));
    const all = await got;
    expect(all[0].payload.length).toBe(LINK_MAX_PAYLOAD_BYTES);
    expect(all.slice(1).map((m) => m.payload[0])).toEqual([...Array(n).keys()]);
  });

  test('a send to a service nobody listens on comes back as a link notice', async () => {
    const notice = waitFor(alice.linkNotices, (nt) => nt.service === 'nobody.here');
    await alice.sendLink(B, 'nobody.here', Buffer.from('x'));
    expect(await notice).toEqual({ peer: B, service: 'nobody.here', code: 'NOT_FOUND', message: expect.stringContaining('no plugin listening') });
  });

  test('sendLink errors: unknown peer, oversized, aborted (offline: see restart)', async () => {
    await expect(alice.sendLink('F'.repeat(40), 'svc', Buffer.from('x'))).rejects.toMatchObject({ name: 'HostError', code: 'NOT_FOUND' });
    const err = await alice.sendLink(B, 'svc', Buffer.alloc(LINK_MAX_PAYLOAD_BYTES + 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect(err).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(alice.sendLink(B, 'svc', Buffer.from('x'), ac.signal)).rejects.toThrow('stop');
  });

  test('chat one to one both ways', async () => {
    const atBob = waitFor(bob.chatMessages, (m) => !m.outgoing && m.text === 'hi bob');
    const sent = await alice.sendChat({ peer: B }, 'hi bob');
    expect(sent.deliveredTo).toEqual([B]);
    expect(sent.message).toMatchObject({ from: A, fromName: 'Alice', peer: B, room: '', outgoing: true });
    expect(await atBob).toMatchObject({ id: sent.message.id, from: A, fromName: 'Alice', peer: A, room: '', text: 'hi bob', outgoing: false });
    const atAlice = waitFor(alice.chatMessages, (m) => !m.outgoing && m.text === 'hi alice');
    await bob.sendChat({ peer: A }, 'hi alice');
    expect(await atAlice).toMatchObject({ from: B, peer: B, text: 'hi alice' });
    expect(alice.chatHistory({ peer: B }, 10).map((m) => m.text)).toEqual(['hi bob', 'hi alice']);
    await expect(alice.sendChat({ peer: 'E'.repeat(40) }, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.sendChat({ peer: B }, '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('group room both ways; a room message for an unknown room creates it', async () => {
    const room = await alice.joinRoom({ id: 'folder:photos', title: 'Photos', members: [B] });
    expect(room.members.sort()).toEqual([A, B].sort());
    expect(bob.listRooms()).toEqual([]);
    const atBob = waitFor(bob.chatMessages, (m) => m.room === 'folder:photos');
    const sent = await alice.sendChat({ room: 'folder:photos' }, 'room hello');
    expect(sent.deliveredTo).toEqual([B]);
    expect(await atBob).toMatchObject({ from: A, peer: '', room: 'folder:photos', text: 'room hello', outgoing: false });
    expect(bob.listRooms()).toEqual([{ id: 'folder:photos', title: 'Photos', members: [A, B].sort() }]);
    const atAlice = waitFor(alice.chatMessages, (m) => m.room === 'folder:photos' && !m.outgoing);
    await bob.sendChat({ room: 'folder:photos' }, 'room reply');
    expect(await atAlice).toMatchObject({ from: B, room: 'folder:photos', text: 'room reply' });
    expect(alice.chatHistory({ room: 'folder:photos' }, 0).map((m) => m.text)).toEqual(['room hello', 'room reply']);
    await expect(alice.sendChat({ room: 'nope' }, 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(alice.joinRoom({ id: 'bad room!', title: '', members: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('panels: a token per panel, kept on replace, listed and announced', async () => {
    const events: number[] = [];
    const sub = alice.panelEvents.subscribe((p) => events.push(p.length));
    const { panelToken } = alice.registerPanel({ pluginId: 'kinfolder', id: 'folders', title: 'Folders', icon: '', url: 'http://127.0.0.1:1/' });
    expect(panelToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = alice.registerPanel({ pluginId: 'kinfolder', id: 'folders', title: 'Shared folders', icon: '', url: 'http://127.0.0.1:1/' });
    expect(again.panelToken).toBe(panelToken);
    expect(alice.panelToken('kinfolder', 'folders')).toBe(panelToken);
    expect(alice.panelToken('kinfolder', 'other')).toBeUndefined();
    expect(alice.listPanels()).toEqual([expect.objectContaining({ title: 'Shared folders' })]);
    sub.unsubscribe();
    expect(events).toEqual([0, 1, 1]);
  });

  test('sign makes a binary detached signature', async () => {
    const sig = await alice.sign(Buffer.from('m'));
    expect(sig).toBeInstanceOf(Uint8Array);
    expect(sig[0] & 0x80).toBe(0x80); // an OpenPGP packet, not armor text
  });
});

describe('devhost: restart and reconnect', () => {
  const fx = new NodeFixture();
  afterAll(() => fx.cleanup());

  test('a friend stops and starts again: the other reconnects by itself, traffic and history resume', async () => {
    const alice = await fx.node('Alice');
    const bobDir = await fx.dir();
    // No explicit port: Bob remembers his first one, so Alice's stored address stays right.
    const bob1 = await fx.node('Bob', { dataDir: bobDir, listenPort: undefined });
    const A = alice.self().fingerprint;
    const B = bob1.self().fingerprint;
    await befriend(alice, bob1);
    const arrived = waitFor(bob1.chatMessages, (m) => m.text === 'before restart');
    await alice.sendChat({ peer: B }, 'before restart');
    await arrived;

    const offline = waitPeerOnline(alice, B, false);
    await bob1.stop();
    await offline;
    expect(alice.peers()[0].online).toBe(false);
    await expect(alice.sendLink(B, 'svc', Buffer.from('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    const online = waitPeerOnline(alice, B, true);
    const bob2 = await fx.node('Bob', { dataDir: bobDir, listenPort: undefined });
    await online;
    expect(bob2.self().fingerprint).toBe(B);
    expect(bob2.chatHistory({ peer: A }, 10).map((m) => m.text)).toEqual(['before restart']);

    const got = waitFor(bob2.linkMessages('svc'), () => true);
    await alice.sendLink(B, 'svc', Buffer.from('after'));
    expect((await got).payload.toString()).toBe('after');
    const lines = (await fs.readFile(path.join(bobDir, 'chat.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  test('a friend back on a new port reaches us; we remember its new address', async () => {
    const alice = await fx.node('Alice');
    const bobDir = await fx.dir();
    const bob1 = await fx.node('Bob', { dataDir: bobDir }); // listenPort 0: a new port each start
    const B = bob1.self().fingerprint;
    await alice.addFriend(bob1.certificate());
    await bob1.addFriend(alice.certificate());
    await waitPeerOnline(alice, B);
    const oldAddress = bob1.listenAddress!;
    const offline = waitPeerOnline(alice, B, false);
    await bob1.stop();
    await offline;
    const online = waitPeerOnline(alice, B);
    const bob2 = await fx.node('Bob', { dataDir: bobDir });
    await online;
    expect(bob2.listenAddress).not.toBe(oldAddress);
    const saved = async () => JSON.parse(await fs.readFile(path.join(alice.dataDir, 'friends.json'), 'utf8')).friends[0].address as string;
    expect(alice.friends()[0].address).toBe(bob2.listenAddress); // in memory before the link came up
    // The file is written right after; wait for that write.
    const deadline = Date.now() + 5000;
    while ((await saved()) !== bob2.listenAddress && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alice.friends()[0].address).toBe(bob2.listenAddress);
    expect(await saved()).toBe(bob2.listenAddress);
  });

  test('removing a friend closes the link: the other side sees us offline and can no longer send', async () => {
    const alice = await fx.node('Alice');
    const bob = await fx.node('Bob');
    await befriend(alice, bob);
    const A = alice.self().fingerprint;
    const offline = waitPeerOnline(bob, A, false);
    await alice.removeFriend(bob.self().fingerprint);
    await offline;
    await expect(bob.sendLink(A, 'svc', Buffer.from('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(alice.sendLink(bob.self().fingerprint, 'svc', Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('devhost: holding the links (a plugin that does not keep up)', () => {
  const fx = new NodeFixture();
  afterAll(() => fx.cleanup());

  test('a held node reads nothing more, the sender waits on TCP, the link outlives its idle timeout, and all arrives in order after', async () => {
    // Short keepalive timings: a held link must not be closed as idle however long the hold.
    const timings = { keepaliveMs: 500, idleTimeoutMs: 1_500 };
    const alice = await fx.node('Alice', { timings });
    const bob = await fx.node('Bob', { timings });
    await befriend(alice, bob);
    const B = bob.self().fingerprint;
    const got: number[] = [];
    const sub = bob.linkMessages('held').subscribe((m) => got.push(m.payload[0]));
    const release = bob.holdLinks();
    const total = 64;
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        await alice.sendLink(B, 'held', Buffer.alloc(1024 * 1024, i));
        sent++;
      }
    })();
    // The sender stops once TCP and the socket buffers are full: far short of 64 MiB.
    let last = -1;
    let since = Date.now();
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (sent !== last) [last, since] = [sent, Date.now()];
        if (Date.now() - since > 3_500) {
          clearInterval(t);
          resolve();
        }
        if (sent === total) {
          clearInterval(t);
          reject(new Error('every send went through while Bob held his links'));
        }
      }, 50);
    });
    expect(sent).toBeLessThan(total);
    // Written but not read: Bob holds them back. (Not "at most one read": a duplicate connection
    // retired while the hold is on is read to its end, with what Alice wrote on it before she
    // switched: up to a few messages, seen once in a clean-clone CI run under load.)
    expect(got.length).toBeLessThan(sent);
    // Held for over 3.5 s, more than twice the idle timeout: both still see each other online.
    expect(bob.peers().find((p) => p.fingerprint === alice.self().fingerprint)?.online).toBe(true);
    expect(alice.peers().find((p) => p.fingerprint === B)?.online).toBe(true);
    release();
    await sending;
    const deadline = Date.now() + 15_000;
    while (got.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([...Array(total).keys()]);
    sub.unsubscribe();
  }, 30_000);
});
