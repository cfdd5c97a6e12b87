/** Simultaneous dials between two friends settle on one link, the same one on both ends; a silent peer is dropped by keepalive. */
import * as tls from 'node:tls';
import { loadIdentity, type DevhostNode } from '../../../host-bridge/src/devhost';
import { encodeFrame, generateTlsCredentials, signBinding } from '../../../host-bridge/src/devhost/links';
import { NodeFixture, waitFor, waitPeerOnline } from './helpers';

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 25));
  }
}

let cachedCreds: Awaited<ReturnType<typeof generateTlsCredentials>> | undefined;
async function bobCreds(): Promise<{ key: string; cert: string; keyPem: string; certPem: string; spkiSha256: Buffer }> {
  cachedCreds ??= await generateTlsCredentials('bob');
  return { key: cachedCreds.keyPem, cert: cachedCreds.certPem, ...cachedCreds };
}

describe('devhost: one link per pair', () => {
  const fx = new NodeFixture();
  const rawCleanup: Array<() => void> = [];
  afterAll(async () => {
    for (const c of rawCleanup) c();
    await fx.cleanup();
  });

  test('two nodes that start together settle on one connection, the same one at both ends', async () => {
    // Friends before either starts, so both dial the other the moment they start.
    const a = await fx.node('A', { listenPort: undefined });
    const b = await fx.node('B', { listenPort: undefined });
    const certA = a.certificate();
    const certB = b.certificate();
    await a.stop();
    await b.stop();
    for (let round = 0; round < 3; round++) {
      const a2 = await fx.node('A', { dataDir: a.dataDir, listenPort: undefined }, false);
      const b2 = await fx.node('B', { dataDir: b.dataDir, listenPort: undefined }, false);
      if (round === 0) {
        await a2.addFriend(certB);
        await b2.addFriend(certA);
      }
      const A = a2.self().fingerprint;
      const B = b2.self().fingerprint;
      await Promise.all([a2.start(), b2.start()]);
      await Promise.all([waitPeerOnline(a2, B), waitPeerOnline(b2, A)]);
      await eventually(() => a2.linkInfo(B).connections === 1 && b2.linkInfo(A).connections === 1);
      // One end dialled it, the other accepted it.
      expect([a2.linkInfo(B).direction, b2.linkInfo(A).direction].sort()).toEqual(['in', 'out']);
      const got = waitFor(b2.linkMessages('svc'), () => true);
      await a2.sendLink(B, 'svc', Buffer.from(`round ${round}`));
      expect((await got).payload.toString()).toBe(`round ${round}`);
      await Promise.all([a2.stop(), b2.stop()]);
    }
  });

  test('with a connection each way at once, the one dialled by the lower fingerprint survives; a restarted peer replaces it', async () => {
    // "Bob" is played by the test: a TLS server Alice dials, and a TLS client that dials Alice.
    const bobServer = tls.createServer({ requestCert: true, rejectUnauthorized: false, ...(await bobCreds()) });
    const served: tls.TLSSocket[] = [];
    await new Promise<void>((r) => bobServer.listen(0, '127.0.0.1', () => r()));
    rawCleanup.push(() => bobServer.close());
    const bobPort = (bobServer.address() as { port: number }).port;
    const bob = await fx.node('Bob', { listenPort: bobPort }, false);
    const bobId = await loadIdentity(bob.dataDir);
    const creds = await bobCreds();
    const helloFrom = async (instance: string) =>
      Buffer.concat([
        encodeFrame({ kind: 'hello', fingerprint: bobId.fingerprint, locationId: bobId.locationId, instance, address: `127.0.0.1:${bobPort}`, binding: await signBinding(bobId, creds.spkiSha256) }),
        encodeFrame({ kind: 'accept' }),
      ]);
    const hello1 = await helloFrom('first-instance');
    const closed = new Set<tls.TLSSocket>();
    const watch = (sock: tls.TLSSocket) => {
      rawCleanup.push(() => sock.destroy());
      sock.on('error', () => undefined);
      sock.on('close', () => closed.add(sock));
      sock.resume(); // read, so Alice's end-of-stream is seen
    };
    bobServer.on('secureConnection', (s) => {
      watch(s);
      served.push(s);
      s.write(hello1);
    });

    const alice = await fx.node('Alice');
    const A = alice.self().fingerprint;
    const B = bobId.fingerprint;
    const downs: unknown[] = [];
    alice.linkEvents.subscribe((e) => e.kind === 'down' && downs.push(e));
    const up = waitPeerOnline(alice, B);
    await alice.addFriend(bob.certificate()); // Alice dials bobServer
    const dialled = tls.connect({ host: '127.0.0.1', port: Number(alice.listenAddress!.split(':')[1]), rejectUnauthorized: false, key: creds.keyPem, cert: creds.certPem });
    watch(dialled);
    dialled.once('secureConnect', () => dialled.write(hello1));
    await up;
    await eventually(() => served.length === 1 && alice.linkInfo(B).connections === 1);
    const survivor = A < B ? 'out' : 'in';
    expect(alice.linkInfo(B).direction).toBe(survivor);
    const loser = survivor === 'out' ? dialled : served[0];
    await eventually(() => closed.has(loser));
    expect(closed.has(survivor === 'out' ? served[0] : dialled)).toBe(false);
    expect(downs).toEqual([]);

    // Same peer, new instance (it restarted): the fresh connection wins whoever dialled it.
    const hello2 = await helloFrom('second-instance');
    const again = tls.connect({ host: '127.0.0.1', port: Number(alice.listenAddress!.split(':')[1]), rejectUnauthorized: false, key: creds.keyPem, cert: creds.certPem });
    watch(again);
    again.once('secureConnect', () => again.write(hello2));
    await eventually(() => alice.linkInfo(B).direction === 'in' && alice.linkInfo(B).connections === 1);
    expect(downs).toEqual([]);
    expect(alice.peers()[0].online).toBe(true);
    await eventually(() => closed.has(survivor === 'out' ? served[0] : dialled));

    const offline = waitPeerOnline(alice, B, false);
    for (const s of [dialled, again, ...served]) s.destroy();
    await offline;
    await new Promise<void>((r) => bobServer.close(() => r()));
  });

  test('a peer that stops answering pings is dropped by keepalive', async () => {
    const alice = await fx.node('Alice', { timings: { keepaliveMs: 200, idleTimeoutMs: 600 } });
    const bob = await fx.node('Bob', { listenPort: 9 }, false);
    await alice.addFriend(bob.certificate());
    const bobId = await loadIdentity(bob.dataDir);
    const creds = await generateTlsCredentials('bob');
    const [host, port] = alice.listenAddress!.split(':');
    const up = waitPeerOnline(alice, bobId.fingerprint);
    // Says hello and accept, then never reads nor answers: a hung peer.
    const socket = tls.connect({ host, port: Number(port), key: creds.keyPem, cert: creds.certPem, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    socket.once('secureConnect', async () => {
      socket.write(encodeFrame({ kind: 'hello', fingerprint: bobId.fingerprint, locationId: bobId.locationId, instance: 'x', address: '127.0.0.1:9', binding: await signBinding(bobId, creds.spkiSha256) }));
      socket.write(encodeFrame({ kind: 'accept' }));
    });
    await up;
    const down = await waitFor(alice.linkEvents, (e) => e.kind === 'down', 5_000);
    expect(down).toMatchObject({ kind: 'down', peer: bobId.fingerprint, reason: expect.stringContaining('keepalive') });
    socket.destroy();
  });
});
