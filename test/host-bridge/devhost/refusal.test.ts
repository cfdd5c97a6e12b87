/** Who may not link: non-friends, and anyone whose TLS key is not bound to the claimed friend's PGP key. */
import * as tls from 'node:tls';
import { firstValueFrom, ReplaySubject, take, toArray } from 'rxjs';
import { loadIdentity, loadOrCreateIdentity, type DevhostNode, type Identity, type LinkEvent } from '../../../host-bridge/src/devhost';
import { encodeFrame, FrameDecoder, generateTlsCredentials, signBinding, type Frame, type TlsCredentials } from '../../../host-bridge/src/devhost/links';
import { NodeFixture, waitFor, waitPeerOnline } from './helpers';

interface RawLink {
  socket: tls.TLSSocket;
  frames: Frame[];
  frame$: ReplaySubject<Frame>;
  closed: Promise<void>;
}

/** A hand-driven TLS client that says whatever hello the test wants. */
function rawConnect(address: string, creds: TlsCredentials | undefined, hello: Frame | undefined, thenAccept = true): Promise<RawLink> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), key: creds?.keyPem, cert: creds?.certPem, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    const frames: Frame[] = [];
    const frame$ = new ReplaySubject<Frame>();
    const decoder = new FrameDecoder();
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (c: Buffer) => {
      for (const f of decoder.push(c)) {
        frames.push(f);
        frame$.next(f);
      }
    });
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => {
      if (hello) socket.write(encodeFrame(hello));
      if (hello && thenAccept) socket.write(encodeFrame({ kind: 'accept' }));
      resolve({ socket, frames, frame$, closed });
    });
    socket.once('error', reject);
  });
}

const refusedFrom = (node: DevhostNode, reason: string) =>
  waitFor(node.linkEvents, (e): e is Extract<LinkEvent, { kind: 'refused' }> => e.kind === 'refused' && e.reason === reason, 10_000, `refusal ${reason}`);

describe('devhost: refused links', () => {
  const fx = new NodeFixture();
  let alice: DevhostNode;
  let bob: DevhostNode; // Alice's friend, not running: its identity is what an impostor would claim
  let bobId: Identity;
  let mallory: Identity; // some other PGP identity

  beforeAll(async () => {
    alice = await fx.node('Alice');
    // Bob's certificate names a port where nothing listens, so Alice's own dials to him fail quietly.
    bob = await fx.node('Bob', { listenPort: 9 }, false);
    await alice.addFriend(bob.certificate());
    bobId = await loadIdentity(bob.dataDir);
    mallory = (await loadOrCreateIdentity({ dataDir: await fx.dir(), name: 'Mallory' })).identity;
  });
  afterAll(() => fx.cleanup());

  const hello = async (who: Identity, boundTo: TlsCredentials, overrides: Partial<Extract<Frame, { kind: 'hello' }>> = {}): Promise<Frame> => ({
    kind: 'hello',
    fingerprint: who.fingerprint,
    locationId: who.locationId,
    instance: 'test',
    address: '127.0.0.1:9',
    binding: await signBinding(who, boundTo.spkiSha256),
    ...overrides,
  });

  test('control: Bob’s own key, binding over the TLS key he presents, is accepted', async () => {
    const creds = await generateTlsCredentials('bob');
    const up = waitFor(alice.linkEvents, (e) => e.kind === 'up' && e.peer === bobId.fingerprint);
    const raw = await rawConnect(alice.listenAddress!, creds, await hello(bobId, creds));
    await up;
    expect(alice.peers().find((p) => p.fingerprint === bobId.fingerprint)?.online).toBe(true);
    await waitFor(raw.frame$, (f) => f.kind === 'accept');
    expect(raw.frames[0]).toMatchObject({ kind: 'hello', fingerprint: alice.self().fingerprint });
    const offline = waitPeerOnline(alice, bobId.fingerprint, false);
    raw.socket.destroy();
    await offline;
  });

  test('a binding signed for a different TLS key is refused', async () => {
    const presented = await generateTlsCredentials('bob');
    const other = await generateTlsCredentials('bob');
    const refused = refusedFrom(alice, 'binding-invalid');
    const raw = await rawConnect(alice.listenAddress!, presented, await hello(bobId, other));
    expect((await refused).peer).toBe(bobId.fingerprint);
    await raw.closed;
    expect(raw.frames.map((f) => f.kind)).not.toContain('accept');
    expect(alice.peers().find((p) => p.fingerprint === bobId.fingerprint)?.online).toBe(false);
  });

  test('a binding from another PGP key (claiming Bob’s fingerprint) is refused', async () => {
    const creds = await generateTlsCredentials('mallory');
    const refused = refusedFrom(alice, 'binding-invalid');
    const raw = await rawConnect(alice.listenAddress!, creds, await hello(mallory, creds, { fingerprint: bobId.fingerprint, locationId: bobId.locationId }));
    await refused;
    await raw.closed;
    expect(alice.peers().find((p) => p.fingerprint === bobId.fingerprint)?.online).toBe(false);
  });

  test('a wrong location id, a missing client certificate, or no hello are refused', async () => {
    const creds = await generateTlsCredentials('bob');
    let refused = refusedFrom(alice, 'location-mismatch');
    let raw = await rawConnect(alice.listenAddress!, creds, await hello(bobId, creds, { locationId: '0'.repeat(32) }));
    await refused;
    await raw.closed;

    refused = refusedFrom(alice, 'no-client-certificate');
    raw = await rawConnect(alice.listenAddress!, undefined, await hello(bobId, creds));
    await refused;
    await raw.closed;

    refused = refusedFrom(alice, 'protocol');
    raw = await rawConnect(alice.listenAddress!, creds, { kind: 'ping' });
    await refused;
    await raw.closed;
  });

  test('an oversized frame closes an authenticated link with a reason', async () => {
    const creds = await generateTlsCredentials('bob');
    const up = waitFor(alice.linkEvents, (e) => e.kind === 'up' && e.peer === bobId.fingerprint);
    const raw = await rawConnect(alice.listenAddress!, creds, await hello(bobId, creds));
    await up;
    const down = waitFor(alice.linkEvents, (e): e is Extract<LinkEvent, { kind: 'down' }> => e.kind === 'down' && e.peer === bobId.fingerprint);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(64 * 1024 * 1024);
    header.writeUInt8(3, 4);
    raw.socket.write(header);
    expect((await down).reason).toMatch(/oversized/);
    await raw.closed;
  });

  test('a third node that is not a friend cannot connect or deliver anything', async () => {
    const carol = await fx.node('Carol');
    const C = carol.self().fingerprint;
    const A = alice.self().fingerprint;
    const delivered: unknown[] = [];
    const sub = alice.linkMessages('svc').subscribe((m) => delivered.push(m));
    const chats: unknown[] = [];
    const chatSub = alice.chatMessages.subscribe((m) => chats.push(m));
    // Carol trusts Alice, Alice does not trust Carol: Carol dials and Alice refuses, repeatedly (backoff).
    const refusals = firstValueFrom(alice.linkEvents.pipe(take(2), toArray()));
    await carol.addFriend(alice.certificate());
    const two = await refusals;
    expect(two.every((e) => e.kind === 'refused' && e.reason === 'not-a-friend' && e.peer === C)).toBe(true);
    expect(alice.peers().map((p) => p.fingerprint)).not.toContain(C);
    expect(carol.peers().find((p) => p.fingerprint === A)?.online).toBe(false);
    await expect(carol.sendLink(A, 'svc', Buffer.from('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await carol.sendChat({ peer: A }, 'let me in')).deliveredTo).toEqual([]);
    sub.unsubscribe();
    chatSub.unsubscribe();
    expect(delivered).toEqual([]);
    expect(chats).toEqual([]);
    expect(fx.logs.get(alice)!.some((l) => l.includes('not-a-friend'))).toBe(true);
  });
});
