/**
 * Node flags a plugin manifest may ask its host to launch it with: heap sizing only, each
 * flag once, each value within bounds. Anything else would let a manifest change what the
 * plugin's process may do (load code, open an inspector), so it is refused, not dropped.
 */

/** Flag → the values it may take (MB for the two sizes, percent for the growth factor). */
export const ALLOWED_NODE_ARGS: Readonly<Record<string, { min: number; max: number }>> = {
  // Below this the plugin can not hold its own code and a catch-up's working set.
  '--max-old-space-size': { min: 64, max: 16_384 },
  '--max-semi-space-size': { min: 1, max: 64 },
  // V8's default lets the old generation grow to about twice what survived the last full GC.
  '--heap-growing-percent': { min: 5, max: 100 },
};

const FORM = /^(--[a-z-]+)=([1-9][0-9]{0,4})$/;

/** What is wrong with `args` (empty: nothing); each problem names the flag. */
export function nodeArgProblems(args: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    const m = FORM.exec(arg);
    const limits = m ? ALLOWED_NODE_ARGS[m[1]] : undefined;
    if (!m || !limits) {
      problems.push(`${JSON.stringify(arg)} is not one of ${Object.keys(ALLOWED_NODE_ARGS).map((f) => `${f}=N`).join(', ')}`);
      continue;
    }
    const value = Number(m[2]);
    if (value < limits.min || value > limits.max) problems.push(`${m[1]} must be ${limits.min}..${limits.max}, not ${value}`);
    if (seen.has(m[1])) problems.push(`${m[1]} is given more than once`);
    seen.add(m[1]);
  }
  return problems;
}
