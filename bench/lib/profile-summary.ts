/**
 * Where a V8 CPU profile's time went: self time per function (with its file and line) and per
 * source file, biggest first. `node --import tsx bench/lib/profile-summary.ts <file.cpuprofile>...`
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: { name: string; ms: number }[];
  byFile: { name: string; ms: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const m = url.match(/(node_modules\/(?:@[^/]+\/)?[^/]+)|((?:plugin|proto|host-bridge)\/.*)$/);
  return m ? (m[1] ?? m[2]) : url.replace(/^file:\/\//, '');
}

export function summarize(profile: Profile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = shortUrl(n.callFrame.url);
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    totalMs += ms;
    const key = `${name} ${f}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    const fileKey = n.callFrame.url ? f : name;
    file.set(fileKey, (file.get(fileKey) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, byFunction: sorted(fn), byFile: sorted(file) };
}

export function printSummary(label: string, s: ProfileSummary, top = 15): void {
  const pct = (ms: number) => `${((100 * ms) / Math.max(1, s.totalMs)).toFixed(1)}%`;
  console.log(`${label}: ${(s.totalMs / 1000).toFixed(1)} s on the main thread (idle excluded)`);
  console.log('  by file:');
  for (const x of s.byFile.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
  console.log('  by function (self time):');
  for (const x of s.byFunction.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
}

if (require.main === module) {
  for (const f of process.argv.slice(2)) printSummary(f, summarize(JSON.parse(fs.readFileSync(f, 'utf8')) as Profile));
}
