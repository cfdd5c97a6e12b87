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
  /** Each sample charged to the nearest frame in our own code (plugin/, proto/, host-bridge/): time spent in or under it, libraries and natives included. */
  byOwnCaller: { name: string; ms: number }[];
  /** Time under each of our functions, children included (a function counted once per sample). */
  inclusive: { name: string; ms: number }[];
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
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = (n: ProfileNode) => /\/(plugin|proto|host-bridge)\/src\/|\/proto\/[^/]+\.ts/.test(n.callFrame.url);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const ownCaller = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const n0 = byId.get(id);
    if (!n0 || n0.callFrame.functionName === '(idle)') continue;
    let charged = false;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || !own(n)) continue;
      const key = label(n);
      if (!charged) {
        ownCaller.set(key, (ownCaller.get(key) ?? 0) + ms);
        charged = true;
      }
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
      }
    }
    if (!charged) ownCaller.set('(outside our code)', (ownCaller.get('(outside our code)') ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, byFunction: sorted(fn), byFile: sorted(file), byOwnCaller: sorted(ownCaller), inclusive: sorted(inclusive) };
}

export function printSummary(label: string, s: ProfileSummary, top = 15): void {
  const pct = (ms: number) => `${((100 * ms) / Math.max(1, s.totalMs)).toFixed(1)}%`;
  console.log(`${label}: ${(s.totalMs / 1000).toFixed(1)} s on the main thread (idle excluded)`);
  console.log('  by file:');
  for (const x of s.byFile.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
  console.log('  by function (self time):');
  for (const x of s.byFunction.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
  console.log('  by the nearest function of ours (self time of it and of the libraries and natives it called):');
  for (const x of s.byOwnCaller.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
  console.log('  inclusive (our functions, children included):');
  for (const x of s.inclusive.slice(0, top)) console.log(`    ${pct(x.ms).padStart(6)} ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`);
}

if (require.main === module) {
  for (const f of process.argv.slice(2)) printSummary(f, summarize(JSON.parse(fs.readFileSync(f, 'utf8')) as Profile));
}
