// Links.Open's messages encoded around a payload with room in front: the same bytes on the wire as protobufjs makes, without its copy.
import { randomBytes } from 'node:crypto';
import { encodeFrame, FrameDecoder } from '../../../host-bridge/src/devhost/links';
import { loadHostProto, withLinkHeadroom } from '../../../proto';

const open = loadHostProto().kinfolder.host.v1.Links.service.Open;
const PEER = 'A'.repeat(40);
const SERVICE = 'kinfolder.sync.v1';

const roomyPayload = (n: number): Buffer => {
  const p = withLinkHeadroom(n);
  randomBytes(n).copy(p);
  return p;
};
const sameMemory = (a: Uint8Array, b: Uint8Array): boolean => a.buffer === b.buffer;

describe('Links wire without a payload copy', () => {
  test('a LinkSend with room is encoded around its payload, decodes to what was sent, and the room is used once', () => {
    const payload = roomyPayload(300_000);
    const sent = { id: 70_000, peer: PEER, service: SERVICE, payload };
    const first = open.requestSerialize(sent);
    expect(sameMemory(first, payload)).toBe(true);
    expect(open.requestDeserialize(first)).toEqual(sent);
    // The same payload again: encoded apart, and what was encoded first is left as it was.
    const again = open.requestSerialize({ ...sent, id: 1, peer: 'B'.repeat(40) });
    expect(sameMemory(again, payload)).toBe(false);
    expect(open.requestDeserialize(again)).toEqual({ ...sent, id: 1, peer: 'B'.repeat(40) });
    expect(open.requestDeserialize(first)).toEqual(sent);
  });

  test('a payload without room, an empty one and an id of 0 take the ordinary encoder, with the same result', () => {
    for (const sent of [
      { id: 5, peer: PEER, service: SERVICE, payload: randomBytes(5000) },
      { id: 6, peer: PEER, service: SERVICE, payload: withLinkHeadroom(0) },
      { id: 0, peer: '', service: SERVICE, payload: roomyPayload(10) },
    ]) {
      const out = open.requestSerialize(sent);
      expect(open.requestDeserialize(out)).toEqual({ ...sent, payload: Buffer.from(sent.payload) });
    }
    // A negative id is ten varint bytes: never written in place (the room stays unused).
    const negative = roomyPayload(100_000);
    expect(sameMemory(open.requestSerialize({ id: -1, peer: PEER, service: SERVICE, payload: negative }), negative)).toBe(false);
    expect(sameMemory(open.requestSerialize({ id: 7, peer: PEER, service: SERVICE, payload: negative }), negative)).toBe(true);
  });

  test('a delivery decoded from a link frame goes to the plugin around its payload; other events as before', () => {
    const payload = randomBytes(200_000);
    const [frame] = new FrameDecoder().push(encodeFrame({ kind: 'link', service: SERVICE, payload }));
    if (frame.kind !== 'link') throw new Error(`decoded a ${frame.kind} frame`);
    const event = { delivery: { peer: PEER, service: frame.service, payload: frame.payload } };
    const out = open.responseSerialize(event);
    expect(sameMemory(out, frame.payload)).toBe(true);
    expect(open.responseDeserialize(out)).toMatchObject({ event: 'delivery', delivery: { peer: PEER, service: SERVICE, payload } });
    const ready = { ready: { maxPayloadBytes: 4 << 20, services: [SERVICE] } };
    expect(open.responseDeserialize(open.responseSerialize(ready))).toMatchObject({ event: 'ready', ...ready });
  });
});
