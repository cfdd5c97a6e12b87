import { InboundGate } from '../../../plugin/src/folders/inbound-gate';

/** A hold source that records what is held. */
function holds() {
  const h = { taken: 0, released: 0, hold: () => {
    h.taken++;
    return () => void h.released++;
  } };
  return h;
}

describe('InboundGate', () => {
  it('holds past the high mark, keeps holding above the low mark, lets go at it', () => {
    const h = holds();
    const gate = new InboundGate({ hold: h.hold, highBytes: 100, lowBytes: 40, stallMs: 60_000 });
    const a = gate.take(60);
    expect(h.taken).toBe(0);
    const b = gate.take(50);
    expect([h.taken, gate.holding, gate.pendingBytes]).toEqual([1, true, 110]);
    const c = gate.take(30); // more arrives while held (read before the hold took effect): no second hold
    expect(h.taken).toBe(1);
    a();
    expect([h.released, gate.pendingBytes]).toEqual([0, 80]);
    b();
    expect([h.released, gate.holding, gate.pendingBytes]).toEqual([1, false, 30]);
    c();
    c(); // a second call of the same done counts once
    expect(gate.pendingBytes).toBe(0);
    gate.close();
  });

  it('lets go of a hold that sees nothing handled for stallMs, and takes none until something is', async () => {
    const h = holds();
    let onStall!: (bytes: number) => void;
    const stalled = new Promise<number>((resolve) => (onStall = resolve));
    const gate = new InboundGate({ hold: h.hold, highBytes: 10, lowBytes: 5, stallMs: 50, onStall });
    const first = gate.take(20);
    expect(h.taken).toBe(1);
    expect(await stalled).toBe(20);
    expect([h.released, gate.holding]).toEqual([1, false]);
    const second = gate.take(20); // stalled: reading goes on past the mark
    expect(h.taken).toBe(1);
    first(); // progress: the next message past the mark holds again
    const third = gate.take(1);
    expect([h.taken, gate.holding]).toEqual([2, true]);
    second();
    third();
    expect([h.released, gate.holding]).toEqual([2, false]);
    gate.close();
  });

  it('close lets go at once and takes no hold after', () => {
    const h = holds();
    const gate = new InboundGate({ hold: h.hold, highBytes: 10, lowBytes: 5, stallMs: 60_000 });
    gate.take(20);
    gate.close();
    expect(h.released).toBe(1);
    gate.take(20);
    expect(h.taken).toBe(1);
  });

  it('refuses a low mark above the high mark', () => {
    expect(() => new InboundGate({ hold: holds().hold, highBytes: 10, lowBytes: 11, stallMs: 1 })).toThrow(RangeError);
  });
});

test('a hold lasts at most maxHoldMs even while messages are handled; the next message past the high mark takes a new one', async () => {
  // Progress that keeps the backlog above the low mark (the stall guard would never let go), stopped at the release.
  let tick: NodeJS.Timeout | undefined;
  let onRelease!: () => void;
  const released = new Promise<void>((resolve) => (onRelease = resolve));
  const h = { taken: 0, released: 0 };
  const hold = (): (() => void) => {
    h.taken++;
    return () => {
      h.released++;
      clearInterval(tick);
      onRelease();
    };
  };
  const gate = new InboundGate({ hold, highBytes: 10, lowBytes: 5, stallMs: 60_000, maxHoldMs: 50 });
  const first = gate.take(20);
  expect(h.taken).toBe(1);
  tick = setInterval(() => gate.take(1)(), 5);
  await released;
  expect([h.released, gate.holding]).toEqual([1, false]);
  const second = gate.take(1);
  expect([h.taken, gate.holding]).toEqual([2, true]);
  first();
  second();
  expect(h.released).toBe(2);
  gate.close();
});
