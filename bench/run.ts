/**
 * `npm run bench -- <name> [...]`: runs bench/<name>.bench.ts (all of them without a name).
 * Each bench prints its figures and ends with `figure <name> <value> <unit>` lines.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = __dirname;
const available = fs.readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, '')).sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')} (available: ${available.join(', ') || 'none'})`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`# bench ${name}`);
  // A fresh process per bench so peak RSS figures are its own; --expose-gc lets benches settle memory between runs.
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(dir, `${name}.bench.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
