/** Reconnect delays: exponential with jitter, pure (the caller passes its random source). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000 };

/**
 * Delay before reconnect attempt `attempt` (0 = first): the exponential step capped at
 * maxMs, then jittered down into [step/2, step] so restarted sidecars do not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const step = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (step / 2) * random());
}
