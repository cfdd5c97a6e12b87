import { backoffDelay, encodeFrame, encodeFrameParts, FrameDecoder, FrameError, type Frame } from '../../../host-bridge/src/devhost/links';

const samples: Frame[] = [
  { kind: 'hello', fingerprint: 'A'.repeat(40), locationId: 'b'.repeat(32), instance: 'c'.repeat(32), address: '127.0.0.1:1234', binding: Buffer.from([1, 2, 3]) },
  { kind: 'accept' },
  { kind: 'link', service: 'kinfolder.sync', payload: Buffer.from('payload') },
  { kind: 'link', service: 's', payload: Buffer.alloc(0) },
  { kind: 'linkNotice', service: 'x', code: 'NOT_FOUND', message: 'no plugin listening on service x' },
  { kind: 'chat', id: 'id1', text: 'héllo', sentAtMs: 42 },
  { kind: 'chat', id: 'id2', text: 'room', sentAtMs: 43, room: { id: 'r', title: 'R', members: ['A'] } },
  { kind: 'ping' },
  { kind: 'pong' },
];

describe('link frames', () => {
  test('every kind round-trips, whole and byte by byte', () => {
    const wire = Buffer.concat(samples.map(encodeFrame));
    expect(new FrameDecoder().push(wire)).toEqual(samples);
    const d = new FrameDecoder();
    const out: Frame[] = [];
    for (const byte of wire) out.push(...d.push(Buffer.from([byte])));
    expect(out).toEqual(samples);
  });

  test('a link frame goes out as its header and its payload uncopied; each decoded payload has a buffer of its own', () => {
    const payload = Buffer.alloc(100_000, 7);
    const parts = encodeFrameParts({ kind: 'link', service: 'kinfolder.sync', payload });
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(payload);
    expect(Buffer.concat(parts)).toEqual(encodeFrame({ kind: 'link', service: 'kinfolder.sync', payload }));
    // Two frames in odd-sized reads: each payload is the frame's own bytes, not a view of a read.
    const wire = Buffer.concat([...parts, encodeFrame({ kind: 'link', service: 's', payload: Buffer.from('second') })]);
    const d = new FrameDecoder();
    const out: Frame[] = [];
    for (let at = 0; at < wire.length; at += 7777) out.push(...d.push(wire.subarray(at, at + 7777)));
    expect(out.map((f) => f.kind)).toEqual(['link', 'link']);
    const [a, b] = out as Extract<Frame, { kind: 'link' }>[];
    expect(a.payload.equals(payload)).toBe(true);
    expect(a.payload.buffer).not.toBe(wire.buffer);
    expect(a.payload.buffer).not.toBe(b.payload.buffer);
    expect(b.payload.toString()).toBe('second');
  });

  test('a frame over the limit is refused from its length alone', () => {
    const d = new FrameDecoder(1000);
    const h = Buffer.alloc(5);
    h.writeUInt32BE(1001);
    expect(() => d.push(h)).toThrow(expect.objectContaining({ reason: 'oversized' }));
  });

  test('malformed frames are refused', () => {
    const frame = (type: number, body: Buffer) => {
      const h = Buffer.alloc(5);
      h.writeUInt32BE(body.length + 1);
      h.writeUInt8(type, 4);
      return Buffer.concat([h, body]);
    };
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(4), 'malformed'], // zero length
      [frame(99, Buffer.alloc(0)), 'unknown-type'],
      [frame(1, Buffer.from('not json')), 'malformed'],
      [frame(1, Buffer.from('{"fingerprint":1}')), 'malformed'],
      [frame(3, Buffer.from([0, 9, 1])), 'malformed'], // service overruns
      [frame(6, Buffer.from([1])), 'malformed'], // ping with a body
      [frame(5, Buffer.from('{"id":"x","text":"t","sentAtMs":1,"room":{"id":"r"}}')), 'malformed'],
    ];
    for (const [bytes, reason] of cases) {
      let err: unknown;
      try {
        new FrameDecoder().push(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).reason).toBe(reason);
    }
  });
});

describe('redial backoff', () => {
  test('grows exponentially from the base, is capped, and jitters within the upper half', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, 150, 5000, 1))).toEqual([150, 300, 600, 1200, 2400, 4800, 5000]);
    expect(backoffDelay(100, 150, 5000, 1)).toBe(5000);
    expect(backoffDelay(3, 150, 5000, 0)).toBe(600);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(4, 150, 5000, Math.random());
      expect(d).toBeGreaterThanOrEqual(1200);
      expect(d).toBeLessThanOrEqual(2400);
    }
  });
});
