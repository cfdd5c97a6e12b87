import * as grpc from '@grpc/grpc-js';
import { GRPC_MAX_MESSAGE_BYTES, LINK_MAX_PAYLOAD_BYTES } from '../../../proto';
import type { LinkEvent__Output } from '../../../proto/generated/kinfolder/host/v1/LinkEvent';
import type { HostServerOptions } from '../../../host-bridge/src/server';
import { type FakeKey, fakePeer, generateFakeKey } from '../../helpers/fake-host-adapter';
import { type Host, type RawClients, SYNC_SERVICE, auth, call, collect, rawClients, startHost, waitFor } from './harness';

let key: FakeKey;
let host: Host;
let c: RawClients;

beforeAll(async () => {
  key = await generateFakeKey('Host');
});

beforeEach(async () => {
  host = await startHost(key);
  c = rawClients(host.address);
});

afterEach(async () => {
  c.close();
  await host.close();
});

const friend = fakePeer(1).fingerprint;
const offline = fakePeer(2).fingerprint;

function open(token = host.tokens.kinfolder) {
  const stream = c.links.open(auth(token));
  const got = collect<LinkEvent__Output>(stream);
  return { stream, got, errors: () => got.frames.filter((f) => f.event === 'error').map((f) => f.error!) };
}

/**
 * A new host with a 2 MiB hold mark (and `server` options) whose adapter counts its link holds,
 * a log that keeps the messages starting with `prefix`, and a Links stream open past `ready`.
 */
async function heldHost(prefix: string, server: Partial<HostServerOptions>) {
  c.close();
  await host.close();
  const logged: string[] = [];
  const log = (_l: string, message: string) => {
    if (message.startsWith(prefix)) logged.push(message);
  };
  host = await startHost(key, { server: { linkHoldBytes: 2 * 1024 * 1024, log, ...server } });
  const hold = { taken: 0, released: 0 };
  Object.assign(host.adapter, {
    holdLinks: () => {
      hold.taken++;
      return () => void hold.released++;
    },
  });
  c = rawClients(host.address);
  const { stream, got } = open();
  await waitFor(() => got.frames.length === 1, 'ready');
  return { logged, hold, stream, got };
}

describe('Links.Open', () => {
  it('writes ready first, with the limit and the declared services', async () => {
    const { stream, got } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    expect(got.frames[0]).toMatchObject({ event: 'ready', ready: { maxPayloadBytes: LINK_MAX_PAYLOAD_BYTES, services: [SYNC_SERVICE] } });
    stream.end();
    expect(await got.ended).toBeUndefined(); // half-close: the server ends the stream with OK
  });

  it('answers bad frames with error frames carrying id and code; the stream stays useful', async () => {
    const { stream, got, errors } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    stream.write({ id: 11, peer: 'not-hex', service: SYNC_SERVICE, payload: Buffer.from('a') });
    stream.write({ id: 12, peer: friend, service: 'undeclared.v1', payload: Buffer.from('b') });
    stream.write({ id: 13, peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(LINK_MAX_PAYLOAD_BYTES + 1) });
    stream.write({ id: 14, peer: 'F'.repeat(40), service: SYNC_SERVICE, payload: Buffer.from('d') });
    stream.write({ id: 15, peer: offline, service: SYNC_SERVICE, payload: Buffer.from('e') });
    stream.write({ id: 16, peer: friend.toLowerCase(), service: SYNC_SERVICE, payload: Buffer.alloc(LINK_MAX_PAYLOAD_BYTES, 7) });
    await waitFor(() => errors().length === 5 && host.adapter.sent.length === 1, 'five errors and one send');
    expect(errors().map((e) => [e.id, e.code])).toEqual([
      [11, grpc.status.INVALID_ARGUMENT],
      [12, grpc.status.PERMISSION_DENIED],
      [13, grpc.status.RESOURCE_EXHAUSTED],
      [14, grpc.status.NOT_FOUND],
      [15, grpc.status.UNAVAILABLE],
    ]);
    expect(errors()[0].message).toContain('peer must be a 40-hex-digit PGP fingerprint');
    expect(errors()[1].message).toBe("service 'undeclared.v1' is not in plugin 'kinfolder' manifest's links.services [kinfolder.sync.v1]");
    expect(errors()[2].message).toBe(`payload is ${LINK_MAX_PAYLOAD_BYTES + 1} bytes, more than the limit of ${LINK_MAX_PAYLOAD_BYTES}`);
    expect(errors()[3].message).toContain('is not a friend');
    expect(host.adapter.sent[0]).toMatchObject({ peer: friend, service: SYNC_SERVICE });
    expect(host.adapter.sent[0].payload.length).toBe(LINK_MAX_PAYLOAD_BYTES);

    // Deliveries still flow on the same stream, and another plugin is unaffected.
    host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.from('hello') });
    host.adapter.deliver({ peer: friend, service: 'other.v1', payload: Buffer.from('not for kinfolder') });
    await waitFor(() => got.frames.some((f) => f.event === 'delivery'), 'delivery');
    const deliveries = got.frames.filter((f) => f.event === 'delivery');
    expect(deliveries.map((d) => [d.delivery?.peer, d.delivery?.service, d.delivery?.payload.toString()])).toEqual([[friend, SYNC_SERVICE, 'hello']]);
    const self = await call(c.identity, 'getSelf', {}, auth(host.tokens['other-plugin']));
    expect(self.pluginId).toBe('other-plugin');
    expect(got.error).toBeUndefined();
  });

  it("forwards the host's later notices about own services only", async () => {
    const mine = open();
    const theirs = open(host.tokens['other-plugin']);
    await waitFor(() => mine.got.frames.length === 1 && theirs.got.frames.length === 1, 'both ready');
    host.adapter.linkNotices.next({ peer: friend, service: SYNC_SERVICE, code: 'UNAVAILABLE', message: 'no plugin listening' });
    await waitFor(() => mine.errors().length === 1, 'notice');
    expect(mine.errors()[0]).toMatchObject({ id: 0, code: grpc.status.UNAVAILABLE, peer: friend });
    expect(mine.errors()[0].message).toContain('no plugin listening');
    host.adapter.linkNotices.next({ peer: friend, service: 'other.v1', code: 'NOT_FOUND', message: 'x' });
    await waitFor(() => theirs.errors().length === 1, 'notice for the other plugin');
    expect(mine.errors()).toHaveLength(1);
  });

  it('fails a frame over the gRPC message limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { stream, got } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    stream.write({ id: 1, peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(GRPC_MAX_MESSAGE_BYTES + 1) });
    const err = await got.ended;
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(host.adapter.sendCalls).toBe(0);
    await waitFor(() => host.adapter.inbound.observers.length === 0, 'server to drop the failed stream');

    const again = open();
    await waitFor(() => again.got.frames.length === 1, 'ready on a new stream');
    again.stream.write({ id: 2, peer: friend, service: SYNC_SERVICE, payload: Buffer.from('ok') });
    await waitFor(() => host.adapter.sent.length === 1, 'send on the new stream');
    again.stream.end();
    await again.got.ended;
  });

  it('a second Open by the same plugin ends the first with ABORTED', async () => {
    const first = open();
    await waitFor(() => first.got.frames.length === 1, 'first ready');
    const second = open();
    const err = await first.got.ended;
    expect(err?.code).toBe(grpc.status.ABORTED);
    expect(err?.details).toBe('replaced by a newer Links stream');
    await waitFor(() => second.got.frames.length === 1, 'second ready');
    host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.from('to the newer') });
    await waitFor(() => second.got.frames.length === 2, 'delivery on the newer stream');
    expect(host.adapter.inbound.observers.length).toBe(1);
    second.stream.end();
    await second.got.ended;
  });

  it('stops reading while the link is congested, so the backlog stays in the plugin', async () => {
    const frames = 48;
    const size = 512 * 1024; // 24 MiB in all: more than the stream and socket buffers hold
    const { stream, got } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    host.adapter.blockSends();
    let written = 0;
    for (let i = 1; i <= frames; i++) {
      stream.write({ id: i, peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(size, i) }, () => written++);
    }
    await waitFor(() => host.adapter.sendCalls === 1, 'first send to reach the adapter');
    // Wait until the client's writes stop making progress, then look at where the backlog is.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(() => {
      if (written !== last) {
        last = written;
        stableSince = Date.now();
      }
      return Date.now() - stableSince > 300;
    }, 'client writes to settle');
    expect(host.adapter.sendCalls).toBe(1);
    expect(written).toBeLessThan(frames);

    host.adapter.releaseSends();
    await waitFor(() => host.adapter.sent.length === frames && written === frames, 'every frame to go through');
    expect(host.adapter.sent.map((s) => s.payload[0])).toEqual(Array.from({ length: frames }, (_, i) => (i + 1) & 0xff));
    expect(host.adapter.maxPendingSends).toBe(1);
    expect(got.error).toBeUndefined();
    stream.end();
    await got.ended;
  });

  it('holds the adapter\'s links while a plugin that does not read has more than linkHoldBytes queued, and lets go once it reads', async () => {
    const { logged: drops, hold, stream, got } = await heldHost('Links delivery dropped', {});
    stream.pause(); // the plugin stops reading
    // A friend goes on sending until the host holds its link (a held link delivers nothing more).
    let sent = 0;
    await waitFor(() => {
      if (hold.taken === hold.released) host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(512 * 1024, sent++) });
      return hold.taken === 1 && hold.released === 0;
    }, 'the links held', 10_000);
    expect(sent).toBeLessThan(64); // held long before the drop limit
    stream.resume();
    const delivered = () => got.frames.filter((f) => f.event === 'delivery');
    await waitFor(() => delivered().length === sent, 'every delivery');
    await waitFor(() => hold.released === 1, 'the hold released');
    expect(hold.taken).toBe(1);
    expect(drops).toEqual([]);
    expect(delivered().map((f) => f.delivery!.payload[0])).toEqual(Array.from({ length: sent }, (_, i) => i % 256));
    stream.end();
    await got.ended;
  });

  it('closes a stream with UNAVAILABLE when deliveries wait in it and none is written for linkStallMs, and lets the held links go', async () => {
    const { logged: stalls, hold, stream, got } = await heldHost('Links stream stalled', { linkStallMs: 300 });
    stream.pause(); // the plugin takes nothing more: past its HTTP/2 window, nothing is written
    for (let i = 0; i < 24; i++) host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(1024 * 1024, i) });
    await waitFor(() => stalls.length === 1, 'the stall noticed', 10_000);
    expect(hold).toEqual({ taken: 1, released: 1 });
    stream.resume(); // the status comes after what was already sent
    expect(await got.ended).toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('drops deliveries with a RESOURCE_EXHAUSTED notice once a plugin that does not read has a full queue', async () => {
    c.close();
    await host.close();
    const drops: unknown[] = [];
    const log = (_l: string, message: string, fields?: Record<string, unknown>) => {
      if (message.startsWith('Links delivery dropped')) drops.push(fields);
    };
    host = await startHost(key, { server: { linkQueueBytes: 8 * 1024 * 1024, log } });
    c = rawClients(host.address);
    const { stream, got } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    stream.pause(); // the plugin stops reading
    const total = 64;
    for (let i = 0; i < total; i++) host.adapter.deliver({ peer: friend, service: SYNC_SERVICE, payload: Buffer.alloc(1024 * 1024, i) });
    await waitFor(() => drops.length > 0, 'a drop');
    stream.resume();
    const delivered = () => got.frames.filter((f) => f.event === 'delivery');
    const notices = () => got.frames.filter((f) => f.event === 'error');
    await waitFor(() => delivered().length + notices().length === total, 'every delivery or its notice');
    expect(notices().length).toBe(drops.length);
    expect(notices()[0].error).toMatchObject({ id: 0, code: grpc.status.RESOURCE_EXHAUSTED, peer: friend });
    expect(notices()[0].error?.message).toContain('the plugin is not reading its Links stream');
    // What was delivered arrived whole and in order; the queue stayed within the limit plus the stream's own buffers.
    const firstBytes = delivered().map((f) => f.delivery!.payload[0]);
    expect(firstBytes).toEqual([...firstBytes].sort((x, y) => x - y));
    expect(delivered().length).toBeLessThan(total);
    expect(delivered().length).toBeGreaterThanOrEqual(8);
    stream.end();
    await got.ended;
  });

  it('cancelling the stream unsubscribes and aborts a pending send', async () => {
    const { stream, got } = open();
    await waitFor(() => got.frames.length === 1, 'ready');
    host.adapter.blockSends();
    stream.write({ id: 1, peer: friend, service: SYNC_SERVICE, payload: Buffer.from('x') });
    await waitFor(() => host.adapter.sendCalls === 1, 'send pending');
    stream.cancel();
    await got.ended;
    await waitFor(() => host.adapter.inbound.observers.length === 0 && !host.adapter.linkNotices.observed, 'unsubscribe');
    host.adapter.releaseSends();
    await waitFor(() => host.adapter.pendingSendCount === 0, 'pending send to settle');
    expect(host.adapter.sent).toHaveLength(0); // the server aborted it: the fake honours the signal
  });
});
