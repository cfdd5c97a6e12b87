/**
 * glibc malloc tuning a plugin manifest may ask for. A sidecar that moved a gigabyte in block
 * buffers keeps the freed memory: glibc raises its mmap threshold to the size of the biggest
 * block freed, so later buffers come from heaps it never gives back, and that memory
 * counts against the plugin's RSS budget. These are the few knobs that bound it, passed as
 * glibc's own environment variables; a manifest names them by meaning, never sets the
 * environment itself (that could load code: LD_PRELOAD, NODE_OPTIONS).
 */

export interface MallocTuning {
  /** Most malloc arenas (MALLOC_ARENA_MAX): each thread pool thread may otherwise get its own. */
  arenaMax?: number;
  /** Allocations at least this big get their own mapping, returned on free (MALLOC_MMAP_THRESHOLD_); fixes the threshold. */
  mmapThresholdBytes?: number;
  /** Free memory at the top of a heap beyond this is returned to the system (MALLOC_TRIM_THRESHOLD_). */
  trimThresholdBytes?: number;
}

const LIMITS: Readonly<Record<keyof MallocTuning, { env: string; min: number; max: number }>> = {
  arenaMax: { env: 'MALLOC_ARENA_MAX', min: 1, max: 64 },
  // glibc's bounds on 64-bit: a page to 32 MiB.
  mmapThresholdBytes: { env: 'MALLOC_MMAP_THRESHOLD_', min: 4096, max: 32 * 1024 * 1024 },
  trimThresholdBytes: { env: 'MALLOC_TRIM_THRESHOLD_', min: 0, max: 1024 * 1024 * 1024 },
};

/** What is wrong with `tuning` (empty: nothing); each problem names the field. */
export function mallocProblems(tuning: unknown): string[] {
  if (tuning === undefined) return [];
  if (typeof tuning !== 'object' || tuning === null || Array.isArray(tuning)) return ['must be an object'];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tuning)) {
    const limits = LIMITS[key as keyof MallocTuning];
    if (!limits) problems.push(`${key} is not one of ${Object.keys(LIMITS).join(', ')}`);
    else if (!Number.isSafeInteger(value) || (value as number) < limits.min || (value as number) > limits.max) problems.push(`${key} must be an integer ${limits.min}..${limits.max}, not ${JSON.stringify(value)}`);
  }
  return problems;
}

/** The environment variables for `tuning` (checked with mallocProblems first). */
export function mallocEnv(tuning: MallocTuning | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(tuning ?? {})) {
    const limits = LIMITS[key as keyof MallocTuning];
    if (limits && value !== undefined) env[limits.env] = String(value);
  }
  return env;
}
