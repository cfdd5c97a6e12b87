import { DEFAULT_BACKOFF, backoffDelay } from '../../../plugin/src/host';

describe('backoffDelay', () => {
  it('doubles from 100 ms, caps at 5 s, jitters within [step/2, step]', () => {
    const steps = [100, 200, 400, 800, 1600, 3200, 5000, 5000];
    steps.forEach((step, attempt) => {
      expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0)).toBe(step / 2);
      expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999999)).toBe(step);
    });
  });

  it('stays finite for a very large attempt number', () => {
    expect(backoffDelay(10_000, { initialMs: 100, maxMs: 5000 }, () => 0.5)).toBe(3750);
  });
});
