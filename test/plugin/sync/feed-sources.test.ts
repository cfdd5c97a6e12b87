import { FeedSources, type FeedHolder } from '../../../plugin/src/sync';

const [A, B] = ['A'.repeat(40), 'B'.repeat(40)];
const [alice, bob, carol] = ['1'.repeat(40), '2'.repeat(40), '3'.repeat(40)];

function holder(peer = carol): FeedHolder & { calls: number; asked: string[][] } {
  const h = { peer, calls: 0, asked: [] as string[][], holdFeeds: (a: readonly string[]) => void h.asked.push([...a]), released: () => void h.calls++ };
  return h;
}

afterEach(() => jest.useRealTimers());

test('the first peer sending a feed is its source; another is told to hold it until the source is done', () => {
  const s = new FeedSources();
  expect(s.sending(A, alice)).toBe(false);
  expect(s.sending(A, alice)).toBe(false);
  expect(s.sending(A, bob)).toBe(true);
  // Another feed has a source of its own.
  expect(s.sending(B, bob)).toBe(false);
  const h = holder();
  s.hold(A, h);
  // Not the source: nothing ends.
  s.ended(A, bob);
  expect(h.calls).toBe(0);
  s.ended(A, alice);
  expect(h.calls).toBe(1);
  expect(s.sourceOf(A)).toBeUndefined();
  expect(s.sourceOf(B)).toBe(bob);
  // Then the next peer to send it is the source.
  expect(s.sending(A, carol)).toBe(false);
  s.close();
});

test('a source that says CaughtUp or goes away releases every feed it was sending', () => {
  const s = new FeedSources();
  s.sending(A, alice);
  s.sending(B, alice);
  const [ha, hb] = [holder(), holder()];
  s.hold(A, ha);
  s.hold(B, hb);
  s.endedAll(alice);
  expect([ha.calls, hb.calls]).toEqual([1, 1]);
  expect([s.sourceOf(A), s.sourceOf(B)]).toEqual([undefined, undefined]);
  s.close();
});

test('a holder that said its Vector is forgotten: it hears nothing more', () => {
  const s = new FeedSources();
  s.sending(A, alice);
  const h = holder();
  s.hold(A, h);
  s.forget(h);
  s.ended(A, alice);
  expect(h.calls).toBe(0);
  s.close();
});

test('holding a feed whose source is already done releases at once (after the caller returns)', async () => {
  const s = new FeedSources();
  const h = holder();
  s.hold(A, h);
  expect(h.calls).toBe(0);
  await Promise.resolve();
  expect(h.calls).toBe(1);
  s.close();
});

test('a source silent for the stall time holds nobody back; each batch starts the time again', () => {
  jest.useFakeTimers();
  const s = new FeedSources(1000);
  s.sending(A, alice);
  const h = holder();
  s.hold(A, h);
  jest.advanceTimersByTime(900);
  s.sending(A, alice);
  jest.advanceTimersByTime(900);
  expect(h.calls).toBe(0);
  expect(s.sourceOf(A)).toBe(alice);
  jest.advanceTimersByTime(100);
  expect(h.calls).toBe(1);
  expect(s.sourceOf(A)).toBeUndefined();
  s.close();
});

test('closed: nobody is a source, nothing is held', () => {
  const s = new FeedSources();
  s.close();
  expect(s.sending(A, alice)).toBe(false);
  expect(s.sending(A, bob)).toBe(false);
  expect(s.sourceOf(A)).toBeUndefined();
});

test('an author that speaks is the source of its own feed: every other peer that spoke holds it, and it holds what others are sending', () => {
  const s = new FeedSources();
  const [hAlice, hBob, hCarol] = [holder(alice), holder(bob), holder(carol)];
  s.spoke(hBob);
  expect(s.sourceOf(bob)).toBe(bob);
  expect(hBob.asked).toEqual([]);
  s.spoke(hAlice);
  expect(s.sourceOf(alice)).toBe(alice);
  // Alice holds Bob's feed, Bob holds Alice's.
  expect(hAlice.asked).toEqual([[bob]]);
  expect(hBob.asked).toEqual([[alice]]);
  // Carol, a third peer, holds both; the others hold Carol's.
  s.spoke(hCarol);
  expect(hCarol.asked).toEqual([[bob, alice]]);
  expect(hAlice.asked[1]).toEqual([carol]);
  expect(hBob.asked[1]).toEqual([carol]);
  // A relay's batch of an author's feed while the author is here: it is told to hold.
  expect(s.sending(alice, bob)).toBe(true);
  // The author's session ends: its feed has no source, and those holding it hear so.
  s.hold(alice, hBob);
  s.gone(hAlice);
  expect(hBob.calls).toBe(1);
  expect(s.sourceOf(alice)).toBeUndefined();
  expect(s.sending(alice, bob)).toBe(false);
  s.close();
});
