import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import * as openpgp from 'openpgp';
import { CHAT_MAX_TEXT_BYTES, SIGN_MAX_PAYLOAD_BYTES } from '../../../proto';
import type { PeerEvent__Output } from '../../../proto/generated/kinfolder/host/v1/PeerEvent';
import type { ChatMessage__Output } from '../../../proto/generated/kinfolder/host/v1/ChatMessage';
import { verifyHostSignature } from '../../../plugin/src/host';
import { type FakeKey, fakePeer, generateFakeKey } from '../../helpers/fake-host-adapter';
import { HOST_RECEIVE_WINDOW_BYTES } from '../../../host-bridge/src/server/host-server';
import { CONTRACT_WINDOW_BYTES } from '../../../proto';
import { type Host, type RawClients, auth, call, collect, rawClients, startHost, waitFor } from './harness';

let key: FakeKey;
let otherKey: FakeKey;
let host: Host;
let c: RawClients;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([generateFakeKey('Host'), generateFakeKey('Stranger')]);
  host = await startHost(key);
  c = rawClients(host.address);
});

afterAll(async () => {
  c.close();
  await host.close();
});

const full = (): grpc.Metadata => auth(host.tokens.kinfolder);
const reader = (): grpc.Metadata => auth(host.tokens['reader-only']);

describe('transport', () => {
  it('listens on a unix socket by default', () => {
    expect(host.address).toBe(`unix:${host.socketPath}`);
  });

  it('listens on loopback TCP with port 0 and reports the real port', async () => {
    const tcp = await startHost(key, { tcp: true });
    const t = rawClients(tcp.address);
    try {
      expect(tcp.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(Number(tcp.address.split(':')[1])).toBeGreaterThan(0);
      const self = await call(t.identity, 'getSelf', {}, auth(tcp.tokens.kinfolder));
      expect(self.fingerprint).toBe(key.fingerprint);
    } finally {
      t.close();
      await tcp.close();
    }
  });

  it('gives a plugin connection an HTTP/2 receive window of HOST_RECEIVE_WINDOW_BYTES (the contract window, above the 64 KiB default)', async () => {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(host.socketPath) });
    try {
      const window = await new Promise<number | undefined>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no SETTINGS with the window within 5 s')), 5000);
        const check = (s: http2.Settings): void => {
          if (s.initialWindowSize !== HOST_RECEIVE_WINDOW_BYTES) return;
          clearTimeout(timer);
          resolve(s.initialWindowSize);
        };
        session.on('remoteSettings', check);
        session.on('error', reject);
      });
      expect(window).toBe(CONTRACT_WINDOW_BYTES);
    } finally {
      session.destroy();
    }
  });

  it('answers grpc.health.v1 Check with SERVING, without a token', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { check: Function } } } };
    };
    const health = new pkg.grpc.health.v1.Health(host.address, grpc.credentials.createInsecure());
    try {
      for (const service of ['', 'kinfolder.host.v1.Links']) {
        const res = await new Promise<{ status: string }>((resolve, reject) =>
          health.check({ service }, (err: Error | null, r: { status: string }) => (err ? reject(err) : resolve(r))),
        );
        expect(res.status).toBe('SERVING');
      }
    } finally {
      health.close();
    }
  });
});

describe('authentication', () => {
  it('refuses a call without a token: UNAUTHENTICATED naming the metadata', async () => {
    await expect(call(c.identity, 'getSelf', {}, auth(undefined))).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining("'authorization: Bearer <token>'"),
    });
  });

  it('refuses an unknown token and a malformed header', async () => {
    await expect(call(c.identity, 'getSelf', {}, auth('not-a-token'))).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining('unknown plugin token'),
    });
    const m = new grpc.Metadata();
    m.set('authorization', host.tokens.kinfolder); // without "Bearer "
    await expect(call(c.identity, 'getSelf', {}, m)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it('refuses streams without a valid token too', async () => {
    const watch = collect(c.peers.watch({}, auth('nope')));
    expect((await watch.ended)?.code).toBe(grpc.status.UNAUTHENTICATED);
    const links = collect(c.links.open(auth(undefined)));
    expect((await links.ended)?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('GetSelf names the plugin the token belongs to', async () => {
    const self = await call(c.identity, 'getSelf', {}, reader());
    expect(self).toMatchObject({
      fingerprint: key.fingerprint,
      pluginId: 'reader-only',
      contractVersion: 'kinfolder.host.v1',
      keyAlgorithm: 'ed25519',
      publicKeyArmored: key.publicKeyArmored,
    });
  });
});

describe('capabilities', () => {
  it.each([
    ['identity.sign', (m: grpc.Metadata) => call(c.identity, 'sign', { payload: Buffer.from('x') }, m)],
    ['chat', (m: grpc.Metadata) => call(c.chat, 'send', { peer: fakePeer(1).fingerprint, text: 'hi' }, m)],
    ['chat', (m: grpc.Metadata) => call(c.chat, 'listRooms', {}, m)],
    ['ui.panel', (m: grpc.Metadata) => call(c.ui, 'listPanels', {}, m)],
  ])('refuses an undeclared %s with PERMISSION_DENIED naming it', async (cap, run) => {
    await expect(run(reader())).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: `plugin 'reader-only' did not declare capability '${cap}' in its manifest`,
    });
  });

  it('refuses undeclared streams the same way', async () => {
    const links = collect(c.links.open(reader()));
    const err = await links.ended;
    expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err?.details).toContain("capability 'links'");
    const chat = collect(c.chat.watch({ room: '' }, reader()));
    expect((await chat.ended)?.details).toContain("capability 'chat'");
  });

  it('lets a declared capability through', async () => {
    const peers = await call(c.peers, 'list', {}, reader());
    expect(peers.peers.map((p) => p.fingerprint)).toEqual([fakePeer(1).fingerprint, fakePeer(2).fingerprint]);
  });
});

describe('Identity.Sign', () => {
  const payload = Buffer.from('checkpoint bytes \x00\x01\x02');

  it('returns a binary and an armored signature over the plugin-bound message', async () => {
    const res = await call(c.identity, 'sign', { payload }, full());
    const base = { publicKeyArmored: key.publicKeyArmored, pluginId: 'kinfolder', payload };
    expect(await verifyHostSignature({ ...base, signature: res.signature })).toBe(true);
    expect(res.signatureArmored).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(await verifyHostSignature({ ...base, signature: res.signatureArmored })).toBe(true);
    const parsed = await openpgp.readSignature({ armoredSignature: res.signatureArmored });
    expect(Buffer.from(parsed.write() as Uint8Array).equals(res.signature)).toBe(true);
  });

  it('does not verify with another plugin id, a flipped byte, or another key', async () => {
    const res = await call(c.identity, 'sign', { payload }, full());
    const base = { publicKeyArmored: key.publicKeyArmored, pluginId: 'kinfolder', payload, signature: res.signature };
    expect(await verifyHostSignature({ ...base, pluginId: 'other-plugin' })).toBe(false);
    const flipped = Buffer.from(payload);
    flipped[3] ^= 0x01;
    expect(await verifyHostSignature({ ...base, payload: flipped })).toBe(false);
    expect(await verifyHostSignature({ ...base, publicKeyArmored: otherKey.publicKeyArmored })).toBe(false);
    const badSig = Buffer.from(res.signature);
    badSig[badSig.length - 5] ^= 0x01;
    expect(await verifyHostSignature({ ...base, signature: badSig })).toBe(false);
    // The raw payload is never what the host signs.
    const raw = await openpgp.verify({
      message: await openpgp.createMessage({ binary: payload }),
      signature: await openpgp.readSignature({ binarySignature: res.signature }),
      verificationKeys: await openpgp.readKey({ armoredKey: key.publicKeyArmored }),
      format: 'binary',
    });
    await expect(raw.signatures[0].verified).rejects.toThrow();
  });

  it('refuses a payload over the limit', async () => {
    const big = Buffer.alloc(SIGN_MAX_PAYLOAD_BYTES + 1);
    await expect(call(c.identity, 'sign', { payload: big }, full())).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining(`${SIGN_MAX_PAYLOAD_BYTES + 1} bytes`),
    });
  });
});

describe('Peers.Watch', () => {
  it('sends a snapshot, then each change, and unsubscribes on cancel', async () => {
    const stream = c.peers.watch({}, full());
    const got = collect<PeerEvent__Output>(stream);
    await waitFor(() => got.frames.length === 1, 'snapshot');
    expect(got.frames[0].event).toBe('snapshot');
    expect(got.frames[0].snapshot?.peers).toHaveLength(2);
    expect(host.adapter.peerEvents.observed).toBe(true);

    host.adapter.upsertPeer(fakePeer(3));
    host.adapter.upsertPeer(fakePeer(3, { online: false }));
    host.adapter.removePeer(fakePeer(3).fingerprint);
    await waitFor(() => got.frames.length === 4, 'three changes');
    expect(got.frames.slice(1).map((f) => f.event)).toEqual(['added', 'changed', 'removed']);
    expect(got.frames[2].changed?.online).toBe(false);
    expect(got.frames[3].removed).toBe(fakePeer(3).fingerprint);

    stream.cancel();
    await got.ended;
    await waitFor(() => !host.adapter.peerEvents.observed, 'server to unsubscribe');
  });
});

describe('Chat', () => {
  const friend = fakePeer(1).fingerprint;

  it('validates Send: target, empty text, text over the limit', async () => {
    const send = (req: object) => call(c.chat, 'send', req, full());
    await expect(send({ text: 'hi' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('peer or room') });
    await expect(send({ peer: 'zz', text: 'hi' })).rejects.toMatchObject({ details: expect.stringContaining('peer must be a 40-hex-digit') });
    await expect(send({ peer: friend, text: '' })).rejects.toMatchObject({ details: 'text must not be empty' });
    // 'é' is two bytes: under the limit in characters, over it in UTF-8.
    const long = 'é'.repeat(CHAT_MAX_TEXT_BYTES / 2 + 1);
    await expect(send({ peer: friend, text: long })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('text is') });
    const ok = await send({ peer: friend.toLowerCase(), text: 'é'.repeat(CHAT_MAX_TEXT_BYTES / 2) });
    expect(ok.message?.peer).toBe(friend);
    expect(ok.deliveredTo).toEqual([friend]);
  });

  it('JoinRoom validates the id and lists the room', async () => {
    const join = (room: string) => call(c.chat, 'joinRoom', { room, title: 'T', members: [friend] }, full());
    await expect(join('has space')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('[A-Za-z0-9._:-]') });
    await expect(join('x'.repeat(129))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    const room = await join('folder:abc.1_2-3');
    expect(room.members).toEqual(expect.arrayContaining([friend, key.fingerprint]));
    const rooms = await call(c.chat, 'listRooms', {}, full());
    expect(rooms.rooms.map((r) => r.id)).toContain('folder:abc.1_2-3');
  });

  it('Watch with a room filter sends only that room; History returns oldest first', async () => {
    const all = collect<ChatMessage__Output>(c.chat.watch({ room: '' }, full()));
    const one = collect<ChatMessage__Output>(c.chat.watch({ room: 'r1' }, full()));
    await waitFor(() => host.adapter.chatMessages.observers.length >= 2, 'both watchers');
    host.adapter.receiveChat({ from: friend, fromName: 'f', peer: '', room: 'r2', text: 'in r2' });
    host.adapter.receiveChat({ from: friend, fromName: 'f', peer: '', room: 'r1', text: 'in r1' });
    await waitFor(() => all.frames.length === 2 && one.frames.length === 1, 'messages');
    expect(one.frames[0].text).toBe('in r1');
    expect(all.frames.map((f) => f.text)).toEqual(['in r2', 'in r1']);
    host.adapter.receiveChat({ from: friend, fromName: 'f', peer: '', room: 'r1', text: 'second' });
    const hist = await call(c.chat, 'history', { room: 'r1', limit: 0 }, full());
    expect(hist.messages.map((x) => x.text)).toEqual(['in r1', 'second']);
    const last = await call(c.chat, 'history', { room: 'r1', limit: 1 }, full());
    expect(last.messages.map((x) => x.text)).toEqual(['second']);
  });
});

describe('Ui', () => {
  it('registers a loopback panel under the calling plugin and lists only its own', async () => {
    const res = await call(c.ui, 'registerPanel', { id: 'folders', title: 'Shared folders', icon: '📁', url: 'http://127.0.0.1:4000/panel' }, full());
    expect(res.panel).toMatchObject({ pluginId: 'kinfolder', id: 'folders', url: 'http://127.0.0.1:4000/panel' });
    expect(res.panelToken).not.toBe('');
    host.adapter.registerPanel({ pluginId: 'someone-else', id: 'p', title: 'P', icon: '', url: 'http://127.0.0.1:1/' });
    const list = await call(c.ui, 'listPanels', {}, full());
    expect(list.panels.map((p) => `${p.pluginId}/${p.id}`)).toEqual(['kinfolder/folders']);
  });

  it('refuses a panel URL off loopback', async () => {
    await expect(
      call(c.ui, 'registerPanel', { id: 'x', title: 'X', icon: '', url: 'https://evil.example/' }, full()),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('loopback') });
  });
});

describe('stop', () => {
  it('ends open streams with UNAVAILABLE without the forced-shutdown grace, and the socket can be bound again', async () => {
    const h = await startHost(key, { server: { stopGraceMs: 20_000 } });
    const r = rawClients(h.address);
    try {
      const watch = collect(r.peers.watch({}, auth(h.tokens.kinfolder)));
      await waitFor(() => watch.frames.length === 1, 'snapshot');
      const t0 = Date.now();
      await h.server.stop();
      expect(Date.now() - t0).toBeLessThan(10_000); // the open stream did not hold shutdown for the 20 s grace
      expect((await watch.ended)?.code).toBe(grpc.status.UNAVAILABLE);
      expect(h.adapter.peerEvents.observed).toBe(false);
      await h.restart();
      const self = await call(r.identity, 'getSelf', {}, auth(h.tokens.kinfolder));
      expect(self.pluginId).toBe('kinfolder');
    } finally {
      r.close();
      await h.close();
    }
  });
});
