import { Coalescer } from '../../../plugin/src/folders/coalesce';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('the first note runs at once; notes within the interval run once at its end, with their sum', () => {
  const runs: number[] = [];
  const c = new Coalescer(1000, (n) => runs.push(n));
  c.note(3);
  expect(runs).toEqual([3]);
  c.note(5);
  c.note(7);
  expect(runs).toEqual([3]);
  jest.advanceTimersByTime(999);
  expect(runs).toEqual([3]);
  jest.advanceTimersByTime(1);
  expect(runs).toEqual([3, 12]);
  // The run at the interval's end starts another interval.
  c.note(1);
  expect(runs).toEqual([3, 12]);
  jest.advanceTimersByTime(1000);
  expect(runs).toEqual([3, 12, 1]);
  // A quiet interval ends the window: the next note runs at once.
  jest.advanceTimersByTime(1000);
  c.note(2);
  expect(runs).toEqual([3, 12, 1, 2]);
});
