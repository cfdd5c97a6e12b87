import { RetryTimer } from '../../../plugin/src/folder/retry-timer';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('each arming waits twice as long, up to the bound; a reset starts from the shortest wait; arming twice schedules once', () => {
  const fired: number[] = [];
  const t = new RetryTimer(() => fired.push(Date.now()), 100, 500);
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = fired.length;
    const at = Date.now();
    t.arm();
    t.arm();
    jest.advanceTimersByTime(1_000);
    expect(fired.length).toBe(before + 1);
    waits.push(fired[fired.length - 1] - at);
  }
  expect(waits).toEqual([100, 200, 400, 500, 500]);
  t.reset();
  const at = Date.now();
  t.arm();
  jest.advanceTimersByTime(1_000);
  expect(fired[fired.length - 1] - at).toBe(100);
  t.arm();
  t.stop();
  jest.advanceTimersByTime(10_000);
  expect(fired.length).toBe(6);
});
