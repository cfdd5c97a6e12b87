/** sendLink is the flow control: it resolves only as fast as the peer takes the bytes. */
import * as tls from 'node:tls';
import { loadIdentity } from '../../../host-bridge/src/devhost';
import { encodeFrame, generateTlsCredentials, signBinding } from '../../../host-bridge/src/devhost/links';
import { NodeFixture, waitPeerOnline } from './helpers';

describe('devhost: flow control', () => {
  const fx = new NodeFixture();
  const cleanups: Array<() => void> = [];
  afterAll(async () => {
    for (const c of cleanups) c();
    await fx.cleanup();
  });

  test('against a slow reader, resolved sends never run far ahead of what the reader took', async () => {
    const alice = await fx.node('Alice');
    const bob = await fx.node('Bob', { listenPort: 9 }, false);
    await alice.addFriend(bob.certificate());
    const bobId = await loadIdentity(bob.dataDir);
    const creds = await generateTlsCredentials('bob');
    const [host, port] = alice.listenAddress!.split(':');
    const up = waitPeerOnline(alice, bobId.fingerprint);
    const socket = tls.connect({ host, port: Number(port), key: creds.keyPem, cert: creds.certPem, rejectUnauthorized: false });
    cleanups.push(() => socket.destroy());
    socket.on('error', () => undefined);
    socket.once('secureConnect', async () => {
      socket.write(encodeFrame({ kind: 'hello', fingerprint: bobId.fingerprint, locationId: bobId.locationId, instance: 'slow', address: '127.0.0.1:9', binding: await signBinding(bobId, creds.spkiSha256) }));
      socket.write(encodeFrame({ kind: 'accept' }));
    });
    await up;

    // The reader takes at most 512 KiB per 10 ms (about 50 MiB/s), well below what Alice can send.
    let received = 0;
    let allowance = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= allowance) socket.pause();
    });
    socket.pause();
    const reader = setInterval(() => {
      allowance += 512 * 1024;
      if (received < allowance) socket.resume();
    }, 10);
    cleanups.push(() => clearInterval(reader));

    const payload = Buffer.alloc(4 * 1024 * 1024 - 1024, 3);
    const total = 24;
    let resolved = 0;
    let maxLead = 0;
    for (let i = 0; i < total; i++) {
      await alice.sendLink(bobId.fingerprint, 'bulk', payload);
      resolved += payload.length;
      maxLead = Math.max(maxLead, resolved - received);
    }
    clearInterval(reader);
    // Without flow control every send would resolve at once: a lead of ~96 MiB. Socket buffers
    // (kernel send + receive, Node's) may hold some tens of MiB at most.
    expect(maxLead).toBeLessThan(48 * 1024 * 1024);
    expect(received).toBeGreaterThan(total * payload.length - 48 * 1024 * 1024);
  });
});
