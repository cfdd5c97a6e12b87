import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Observable, Subscription } from 'rxjs';
import { LINK_RECEIVE_WINDOW_BYTES } from '../../../plugin/src/host/client';
import { HostClient, HostClientError, type HostClientState, verifyHostSignature } from '../../../plugin/src/host';
import type { ChatMessage, LinkError, LinkMessage, Peer } from '../../../plugin/src/host';
import { type FakeKey, fakePeer, generateFakeKey } from '../../helpers/fake-host-adapter';
import { type Host, SYNC_SERVICE, next, startHost, waitFor } from '../../host-bridge/server/harness';

let key: FakeKey;
let host: Host;
const clients: HostClient[] = [];
let subs = new Subscription();

beforeAll(async () => {
  key = await generateFakeKey('Host');
});

beforeEach(async () => {
  host = await startHost(key);
});

afterEach(async () => {
  subs.unsubscribe();
  subs = new Subscription();
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await host.close();
});

function client(pluginId = 'kinfolder', over: Partial<ConstructorParameters<typeof HostClient>[0]> = {}): HostClient {
  const c = new HostClient({ address: host.address, token: host.tokens[pluginId], pluginId, ...over });
  clients.push(c);
  return c;
}

/** Records every value, so a test can wait for a sequence without re-subscribing. */
function record<T>(source: Observable<T>): T[] {
  const out: T[] = [];
  const s = new Subscription();
  s.add(source.subscribe((v) => out.push(v)));
  subs.add(s);
  return out;
}

const friend = fakePeer(1).fingerprint;

describe('HostClient', () => {
  it('opens its connection with an HTTP/2 receive window of LINK_RECEIVE_WINDOW_BYTES (deliveries do not wait for a window update every 64 KiB)', async () => {
    // A bare HTTP/2 server that only reads the client's SETTINGS.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-h2-'));
    const sock = path.join(dir, 'h2.sock');
    const server = http2.createServer();
    const seen = new Promise<number | undefined>((resolve) => server.on('session', (s) => s.on('remoteSettings', (st) => resolve(st.initialWindowSize))));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const c = client('kinfolder', { address: `unix:${sock}` });
      c.start();
      expect(await seen).toBe(LINK_RECEIVE_WINDOW_BYTES);
      expect(LINK_RECEIVE_WINDOW_BYTES).toBeGreaterThan(65_535);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connects, reads identity and peers, and signs', async () => {
    const c = client();
    const states = record(c.state$);
    const peers = record(c.peers$);
    c.start();
    const self = await c.ready();
    expect(self).toMatchObject({ fingerprint: key.fingerprint, pluginId: 'kinfolder', contractVersion: 'kinfolder.host.v1' });
    expect(states).toEqual(['connecting', 'ready']);
    await waitFor(() => peers.length > 0, 'peers');
    expect(peers[0].map((p) => [p.fingerprint, p.online])).toEqual([
      [friend, true],
      [fakePeer(2).fingerprint, false],
    ]);
    expect(await c.listPeers()).toEqual(peers[0]);

    const payload = new TextEncoder().encode('checkpoint');
    const sig = await c.sign(payload);
    expect(sig.signature).toBeInstanceOf(Uint8Array);
    expect(await verifyHostSignature({ publicKeyArmored: self.publicKeyArmored, pluginId: 'kinfolder', payload, signature: sig.signature })).toBe(true);
    expect(await verifyHostSignature({ publicKeyArmored: self.publicKeyArmored, pluginId: 'kinfolder', payload, signature: sig.armored })).toBe(true);
    expect(await verifyHostSignature({ publicKeyArmored: self.publicKeyArmored, pluginId: 'kinfolde', payload, signature: sig.signature })).toBe(false);
  });

  it('keeps peers$ current from Peers.Watch', async () => {
    const c = client();
    const peers = record(c.peers$);
    c.start();
    await c.ready();
    await waitFor(() => peers.length === 1, 'snapshot');
    host.adapter.upsertPeer(fakePeer(3));
    host.adapter.removePeer(friend);
    await waitFor(() => peers.length === 3, 'two changes');
    expect(peers[2].map((p: Peer) => p.fingerprint).sort()).toEqual([fakePeer(2).fingerprint, fakePeer(3).fingerprint].sort());
  });

  it('makes the chat and panel calls and turns refusals into HostClientError', async () => {
    const c = client();
    const chat = record(c.chat$);
    c.start();
    await c.ready();
    await waitFor(() => host.adapter.chatMessages.observed, 'chat watch on the server');
    const sent = await c.sendChat({ peer: friend }, 'hello');
    expect(sent).toMatchObject({ message: { text: 'hello', peer: friend, outgoing: true }, deliveredTo: [friend] });
    await waitFor(() => chat.length === 1, 'own message on chat$');
    const room = await c.joinRoom({ id: 'folder-1', title: 'Folder', members: [friend] });
    expect(room.members).toContain(key.fingerprint);
    expect((await c.listRooms()).map((r) => r.id)).toEqual(['folder-1']);
    await c.sendChat({ room: 'folder-1' }, 'to the room');
    expect((await c.chatHistory({ room: 'folder-1' })).map((m) => m.text)).toEqual(['to the room']);
    const reg = await c.registerPanel({ id: 'folders', title: 'Folders', icon: '📁', url: 'http://127.0.0.1:9/p' });
    expect(reg.panel.pluginId).toBe('kinfolder');
    expect(await c.listPanels()).toEqual([reg.panel]);

    const err = await c.sendChat({ peer: friend }, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostClientError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'text must not be empty' });
  });

  it('a plugin without a capability gets PERMISSION_DENIED and stays ready without that stream', async () => {
    const c = client('reader-only');
    const peers = record(c.peers$);
    c.start();
    await c.ready();
    await waitFor(() => peers.length === 1, 'peers for a peers.read plugin');
    await expect(c.sign(new Uint8Array([1]))).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: "plugin 'reader-only' did not declare capability 'identity.sign' in its manifest",
    });
    await expect(c.sendLink(friend, SYNC_SERVICE, new Uint8Array([1]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(c.currentState).toBe('ready');
  });

  it('an AbortSignal cancels a call in flight', async () => {
    const c = client();
    c.start();
    await c.ready();
    let signing = false;
    host.adapter.sign = () => {
      signing = true;
      return new Promise<Uint8Array>(() => {}); // a host that never answers
    };
    const ac = new AbortController();
    const pending = c.sign(new Uint8Array([1]), { signal: ac.signal });
    await waitFor(() => signing, 'sign to reach the host');
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(c.getSelf({ signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await c.getSelf()).pluginId).toBe('kinfolder');
  });

  it('sends and receives Links frames; errors come back with the frame id', async () => {
    const c = client();
    const inbound = record(c.linkMessages$);
    const errors = record(c.linkErrors$);
    c.start();
    await c.ready();
    expect(c.linkReady).toEqual({ maxPayloadBytes: 4 * 1024 * 1024, services: [SYNC_SERVICE] });
    await c.sendLink(friend, SYNC_SERVICE, new Uint8Array([1, 2, 3]));
    const badId = await c.sendLink('F'.repeat(40), SYNC_SERVICE, new Uint8Array([4]));
    await waitFor(() => host.adapter.sent.length === 1 && errors.length === 1, 'send and error');
    expect([...host.adapter.sent[0].payload]).toEqual([1, 2, 3]);
    expect(errors[0]).toEqual<LinkError>({ id: badId, code: 'NOT_FOUND', message: expect.stringContaining('not a friend'), peer: 'F'.repeat(40) });
    await expect(c.sendLink(friend, SYNC_SERVICE, new Uint8Array(4 * 1024 * 1024 + 1))).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringContaining("host's limit of 4194304"),
    });
    host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.from('hi') });
    await waitFor(() => inbound.length === 1, 'delivery');
    expect(inbound[0]).toEqual<LinkMessage>({ peer: friend, service: SYNC_SERVICE, payload: new Uint8Array(Buffer.from('hi')) });
  });

  it('sendLink waits for drain when the host stops reading, and resolves once written', async () => {
    const c = client();
    c.start();
    await c.ready();
    host.adapter.blockSends();
    const big = new Uint8Array(1024 * 1024);
    let resolved = 0;
    const sends = Array.from({ length: 40 }, () => c.sendLink(friend, SYNC_SERVICE, big).then(() => resolved++));
    await waitFor(() => host.adapter.sendCalls === 1, 'first frame at the host');
    let last = -1;
    let since = Date.now();
    await waitFor(() => {
      if (resolved !== last) [last, since] = [resolved, Date.now()];
      return Date.now() - since > 300;
    }, 'sends to settle');
    expect(resolved).toBeLessThan(40);
    host.adapter.releaseSends();
    await Promise.all(sends);
    await waitFor(() => host.adapter.sent.length === 40, 'all frames through');
  });

  it('a Links stream the host takes nothing from for linkStallMs is given up and opened again; its sends fail UNAVAILABLE, later ones go through', async () => {
    const c = client('kinfolder', { linkStallMs: 400, backoff: { initialMs: 10, maxMs: 50 } });
    const states = record(c.state$);
    c.start();
    await c.ready();
    host.adapter.blockSends();
    const big = new Uint8Array(1024 * 1024);
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => c.sendLink(friend, SYNC_SERVICE, big)));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((o) => (o as PromiseRejectedResult).reason instanceof HostClientError && ['UNAVAILABLE', 'CANCELLED'].includes((o as PromiseRejectedResult).reason.code))).toBe(true);
    await waitFor(() => states.lastIndexOf('ready') > states.indexOf('offline') && states.includes('offline'), 'a new session after the stall');
    host.adapter.releaseSends();
    await c.sendLink(friend, SYNC_SERVICE, new Uint8Array([1, 2, 3]));
    await waitFor(() => host.adapter.sent.some((m) => m.payload.length === 3), 'a frame through the new stream');
  });

  it('holdLinks stops taking deliveries until every hold is released; what the host sent meanwhile arrives after, in order', async () => {
    const c = client();
    const inbound = record(c.linkMessages$);
    c.start();
    await c.ready();
    const first = c.holdLinks();
    const second = c.holdLinks();
    expect(c.linksHeld).toBe(true);
    const total = 40;
    const size = 512 * 1024; // 20 MiB: more than the HTTP/2 window and one message of read-ahead hold
    for (let i = 0; i < total; i++) host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(size, i) });
    // The delivery that was being read when the hold began gets through; then the stream stops.
    await waitFor(() => inbound.length >= 1, 'the first delivery');
    let last = -1;
    let since = Date.now();
    await waitFor(() => {
      if (inbound.length !== last) [last, since] = [inbound.length, Date.now()];
      return Date.now() - since > 300;
    }, 'deliveries to stop');
    // Read while held: at most the HTTP/2 window and the one message the stream reads ahead, never the whole backlog.
    const windowMessages = Math.ceil(LINK_RECEIVE_WINDOW_BYTES / size);
    expect(inbound.length).toBeLessThanOrEqual(windowMessages + 3);
    expect(inbound.length).toBeLessThan(total);
    // The held stream's full HTTP/2 window does not stall the other calls on the connection.
    expect((await c.getSelf({ signal: AbortSignal.timeout(3_000) })).pluginId).toBe('kinfolder');
    first();
    first(); // releasing twice counts once
    expect(c.linksHeld).toBe(true);
    const heldAt = inbound.length;
    await expect(next(c.linkMessages$, () => true, 300)).rejects.toThrow();
    expect(inbound.length).toBe(heldAt);
    second();
    expect(c.linksHeld).toBe(false);
    await waitFor(() => inbound.length === total, 'every delivery after the release');
    expect(inbound.map((m) => m.payload[0])).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('survives a host restart: offline, then ready, and every stream resumes without re-subscribing', async () => {
    const c = client();
    const states = record(c.state$);
    const peers = record(c.peers$);
    const chat = record<ChatMessage>(c.chat$);
    const inbound = record(c.linkMessages$);
    c.start();
    await c.ready();
    await waitFor(() => peers.length === 1, 'first peer list');

    await host.server.stop();
    await next(c.state$, (s) => s === 'offline');
    await expect(c.sendLink(friend, SYNC_SERVICE, new Uint8Array([1]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    host.adapter.setPeers([fakePeer(7)]);
    await host.restart();
    await next(c.state$, (s) => s === 'ready');
    const seen = states.join(' ');
    expect(seen.startsWith('connecting ready offline')).toBe(true);
    expect(states[states.length - 1]).toBe('ready');
    expect(seen).toMatch(/offline connecting (offline connecting )*ready$/);

    await waitFor(() => peers.length === 2, 're-listed peers');
    expect(peers[1].map((p) => p.fingerprint)).toEqual([fakePeer(7).fingerprint]);
    await waitFor(() => host.adapter.chatMessages.observed && host.adapter.inbound.observed, 'streams re-opened at the host');
    host.adapter.receiveChat({ from: friend, fromName: 'f', peer: friend, room: '', text: 'after restart' });
    host.adapter.deliver({ peer: fakePeer(7).fingerprint, service: SYNC_SERVICE, payload: Buffer.from('after restart') });
    await waitFor(() => chat.length === 1 && inbound.length === 1, 'chat and link delivery after restart');
    expect(chat[0].text).toBe('after restart');
    host.adapter.upsertPeer(fakePeer(8));
    await waitFor(() => peers.length === 3, 'watch after restart');
    await c.sendLink(fakePeer(7).fingerprint, SYNC_SERVICE, new Uint8Array([9]));
    await waitFor(() => host.adapter.sent.length === 1, 'send after restart');
  });

  it('keeps retrying while no host is there, with backoff', async () => {
    await host.server.stop();
    const c = client('kinfolder', { backoff: { initialMs: 20, maxMs: 50 } });
    const states: HostClientState[] = record(c.state$);
    c.start();
    await waitFor(() => states.filter((s) => s === 'offline').length >= 3, 'three failed attempts');
    expect(states.slice(0, 4)).toEqual(['connecting', 'offline', 'connecting', 'offline']);
    await host.restart();
    await c.ready();
  });

  it('stop() completes the streams and leaves no open handles', async () => {
    const baseline = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const c = client();
    let completed = 0;
    for (const o of [c.state$, c.peers$, c.chat$, c.linkMessages$, c.linkErrors$] as Observable<unknown>[]) {
      subs.add(o.subscribe({ complete: () => completed++ }));
    }
    c.start();
    await c.ready();
    expect(process.getActiveResourcesInfo().length).toBeGreaterThan(baseline.length);
    await c.stop();
    expect(completed).toBe(5);
    await expect(c.getSelf()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await waitFor(() => {
      const now = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      return now.length <= baseline.length;
    }, `handles to close (baseline ${baseline.join(',')})`);
  });
});
