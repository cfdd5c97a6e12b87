/**
 * Sync end to end: `npm run bench -- sync` (or `node --import tsx bench/sync.bench.ts [--quick]
 * [--only=big,small,latency,edit,catchup] [--cpu-prof=<dir>] [--big-mib=<MiB per big file>]`).
 *
 * Three devhost apps (Alice, Bob, Carol) on loopback, each running the real sidecar process,
 * friends with each other; every workload shares its own folder from Alice through the panel
 * API, as a person would, and leaves it afterwards:
 *
 * - big: 1 GiB in 8 random (incompressible) files. Alice makes the folder of them (her first
 *   scan is done before the clock starts), invites Bob (writer) and Carol (reader); the clock
 *   runs from the moment both accept until both hold every file at its final name and size
 *   (checked on disk; the content is compared by SHA-256 afterwards). MB/s = 1 GiB / that time
 *   (each of the two peers receives the whole GiB). Baseline: `rsync -a` of the same files into
 *   an empty local folder, median of 3, in the same run.
 * - small: 10,000 files of 4 KiB in 100 directories, the same way (files/s), rsync alongside.
 * - latency: 20 times, a new 1 KiB file written on Alice, timed (performance.now) until it is on
 *   Bob's disk (polled every 2 ms); median and max.
 * - edit: a 128 MiB random file shared Alice → Bob; 1 MiB overwritten in place in its middle,
 *   then the file replaced by itself with 1 byte inserted at its start (rename from outside the
 *   folder); for each, the bytes of frames Alice's host put on its TLS links (all friends) from
 *   just before the change until Bob has the new content and the links were quiet for 1 s.
 *   The blocks that really changed (FastCDC, as the scanner cuts them) are shown beside.
 * - catchup: a folder shared with Bob and Carol; Carol's whole app (host and sidecar) stops;
 *   100,000 empty files in 1,000 directories are written on Alice (100,000 entries); once Bob
 *   has them all (timed too: live sync of 100k entries), Carol starts again on the same data.
 *   Timed from her sidecar's "folder service ready" line until her status (polled every 50 ms)
 *   first says she lacks none of Alice's entries, with Alice's vector of this link: entries/s
 *   end to end (sent by Alice's sidecar, through both hosts and the TLS link, decoded,
 *   verified, validated and stored by Carol's), `sync.catchup_entries_per_s`; and until all
 *   100,000 files are on her disk (her apply runs after her log), `sync.catchup_files_per_s`.
 *
 * For every workload: peak RSS (VmHWM, reset at the start of the workload through clear_refs;
 * sampled VmRSS as a fallback) and CPU seconds of each sidecar, and CPU seconds of this process
 * (the three hosts, their TLS links and gRPC servers, and the bench's own polling).
 * Data lives under one temp dir, removed at the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashFile } from '../plugin/src/scan';
import { Cluster, MiB, ProcessWatch, cpuSeconds, filesArrived, keystream, sha256File, treeArrived, treeFiles, until, writeRandomFile, writeTree, type Tree } from './lib';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const cpuProfDir = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice(11);
/** --big-mib=<n>: each of the big workload's 8 files is n MiB (for profiles between --quick and full size). */
const bigMib = Number(process.argv.find((a) => a.startsWith('--big-mib='))?.slice(10) ?? NaN);

/** How long a workload may wait for its data to arrive before it reports what arrived by then (marked partial). */
const BUDGET_MS = quick ? { big: 120_000, small: 120_000, live: 120_000, catchup: 120_000 } : { big: 240_000, small: 150_000, live: 150_000, catchup: 150_000 };

const P = quick
  ? { bigFiles: 8, bigSize: 8 * MiB, small: { dirs: 10, perDir: 100, size: 4096 }, latency: 5, editSize: 32 * MiB, catchup: { dirs: 100, perDir: 100, size: 0 } }
  : { bigFiles: 8, bigSize: 128 * MiB, small: { dirs: 100, perDir: 100, size: 4096 }, latency: 20, editSize: 128 * MiB, catchup: { dirs: 1000, perDir: 100, size: 0 } };
if (Number.isInteger(bigMib) && bigMib > 0) P.bigSize = bigMib * MiB;

const figures = new Map<string, string>();
const peaks: number[] = [];
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'nan');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figure = (name: string, value: number, unit: string, d = 1): void => void figures.set(name, `figure ${name} ${fmt(value, d)} ${unit}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `until` within a budget: on the deadline, the time then and complete: false (other errors pass). */
async function within(check: () => boolean, what: string, budgetMs: number, everyMs: number, progress?: () => Promise<string>): Promise<{ at: number; complete: boolean }> {
  try {
    return { at: await until(check, what, budgetMs, everyMs, progress), complete: true };
  } catch (e) {
    if (!(e as Error).message.startsWith('timed out')) throw e;
    console.log(`    deadline: ${(e as Error).message}`);
    return { at: performance.now(), complete: false };
  }
}

const partial = (complete: boolean): string => (complete ? '' : ' [PARTIAL: deadline reached, rate from what arrived]');

/** Retires a workload's folder everywhere; says what did not go through (the next workloads then share the machine with it). */
async function retire(cluster: Cluster, id: string, members: number[]): Promise<void> {
  const t0 = performance.now();
  const problems = await cluster.retire(id, members);
  if (problems.length) console.log(`  retiring the folder: ${problems.join('; ')} (after ${fmt((performance.now() - t0) / 1000, 1)} s)`);
}

/** One line on where each node stands in `folder` (for the progress lines of long waits). */
async function standing(cluster: Cluster, folder: string, have?: () => string): Promise<string> {
  const parts = await Promise.all(
    cluster.nodes.map(async (n) => {
      if (!n.api) return `${n.name} down`;
      const s = await n.status(folder).catch((e: Error) => e.message);
      if (typeof s === 'string') return `${n.name} ? (${s.slice(0, 60)})`;
      return `${n.name} ${s.state} behind ${s.behindEntries} entries/${s.behindFiles} files`;
    }),
  );
  return `${have ? `${have()}; ` : ''}${parts.join(', ')}; load ${os.loadavg()[0].toFixed(1)}`;
}

/** Runs `body` with the sidecars' peak RSS and CPU watched; prints them under `label`. */
async function watched<T>(cluster: Cluster, label: string, body: () => Promise<T>): Promise<T> {
  const watch = new ProcessWatch(() => cluster.sidecarPids());
  const cpu0 = process.cpuUsage();
  try {
    return await body();
  } finally {
    const r = watch.finish();
    const cpu = process.cpuUsage(cpu0);
    const parts = [...r].map(([name, v]) => `${name} ${fmt(v.peakMb, 0)} MB / ${fmt(v.cpuS, 1)} CPU-s`);
    for (const v of r.values()) peaks.push(v.peakMb);
    console.log(`  ${label} sidecars (peak RSS / CPU): ${parts.join(', ')}; hosts + bench process ${fmt((cpu.user + cpu.system) / 1e6, 1)} CPU-s`);
  }
}

/** CPU seconds so far of the sidecars and of this process (the hosts, their links, the bench's polling). */
function cpuNow(cluster: Cluster): { sidecars: number; here: number; each: Map<string, number> } {
  let sidecars = 0;
  const each = new Map<string, number>();
  for (const [name, pid] of cluster.sidecarPids()) {
    if (pid === undefined) continue;
    const s = cpuSeconds(pid) ?? 0;
    each.set(name, s);
    sidecars += s;
  }
  const u = process.cpuUsage();
  return { sidecars, here: (u.user + u.system) / 1e6, each };
}

/** CPU spent since `from`, printed per unit of work (comparable on a busy machine, unlike wall time). */
function cpuPer(cluster: Cluster, from: { sidecars: number; here: number; each: Map<string, number> }, units: number, unit: string): number {
  const to = cpuNow(cluster);
  const sidecars = to.sidecars - from.sidecars;
  const here = to.here - from.here;
  const perUnitMs = ((sidecars + here) * 1000) / units;
  // Per sidecar too: which side of the transfer a change moved (the sender serves both peers).
  const each = [...to.each].map(([name, s]) => `${name} ${fmt(s - (from.each.get(name) ?? 0), 1)}`).join(', ');
  console.log(`  CPU from accept to done: sidecars ${fmt(sidecars, 1)} s (${each}) + hosts and bench ${fmt(here, 1)} s = ${fmt(perUnitMs, 2)} CPU-ms per ${unit} (${os.cpus().length} idle cores would allow at most ${fmt((os.cpus().length * 1000) / perUnitMs, 0)} ${unit}/s)`);
  return perUnitMs;
}

/** --cpu-prof=<dir>: every sidecar writes a V8 CPU profile of its main thread there when it stops (see lib/cpu-profile.cjs). */
function sidecarEnv(): Record<string, string> | undefined {
  if (!cpuProfDir) return undefined;
  return { NODE_OPTIONS: `--require ${path.join(__dirname, 'lib', 'cpu-profile.cjs')}`, KINFOLDER_BENCH_CPU_PROF_DIR: path.resolve(cpuProfDir) };
}

function rsync(src: string, dst: string): number {
  fs.rmSync(dst, { recursive: true, force: true });
  const t0 = performance.now();
  const r = spawnSync('rsync', ['-a', `${src}/`, `${dst}/`]);
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`rsync failed: ${r.stderr}`);
  fs.rmSync(dst, { recursive: true, force: true });
  return s;
}

function ensureRsync(): void {
  if (spawnSync('sh', ['-c', 'command -v rsync']).status === 0) return;
  console.log('rsync missing: apt-get install -y rsync');
  const r = spawnSync('apt-get', ['install', '-y', 'rsync'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('rsync is missing and could not be installed');
}

/** Alice shares `root` as `name`; `members` accept into their roots at once; returns the folder id and the accept time. */
async function share(cluster: Cluster, name: string, roots: string[], members: { node: number; role: 'writer' | 'reader' }[]): Promise<{ id: string; acceptedAt: number; scanS: number; cpuAtAccept: ReturnType<typeof cpuNow> }> {
  const t0 = performance.now();
  const id = await cluster.create(name, roots[0]);
  const scanS = (performance.now() - t0) / 1000;
  await cluster.invite(id, members);
  const cpuAtAccept = cpuNow(cluster);
  const acceptedAt = performance.now();
  await Promise.all(members.map((m) => cluster.accept(id, m.node, roots[m.node])));
  return { id, acceptedAt, scanS, cpuAtAccept };
}

async function big(cluster: Cluster, base: string): Promise<void> {
  const roots = cluster.nodes.map((n) => path.join(base, `${n.name.toLowerCase()}-big`));
  const expected = new Map<string, number>();
  for (let i = 0; i < P.bigFiles; i++) {
    await writeRandomFile(path.join(roots[0], `f${i}.bin`), P.bigSize, `big/${i}`);
    expected.set(`f${i}.bin`, P.bigSize);
  }
  const total = P.bigFiles * P.bigSize;
  const MB = total / 1e6;
  const rs = [0, 1, 2].map(() => rsync(roots[0], path.join(base, 'rsync-big')));
  const rsRate = MB / median(rs);
  console.log(`big: rsync -a of ${P.bigFiles} x ${P.bigSize / MiB} MiB into an empty folder: ${rs.map((s) => fmt(MB / s, 0)).join(', ')} MB/s (median ${fmt(rsRate, 0)})`);
  await watched(cluster, 'big', async () => {
    const { id, acceptedAt, scanS, cpuAtAccept } = await share(cluster, 'big', roots, [{ node: 1, role: 'writer' }, { node: 2, role: 'reader' }]);
    console.log(`  Alice's first scan of the folder (before the clock): ${fmt(scanS, 1)} s`);
    const checks = [1, 2].map((i) => filesArrived(roots[i], expected));
    const done = await Promise.all(checks.map((c, k) => within(c.check, `${cluster.nodes[k + 1].name}'s big files`, BUDGET_MS.big, 50, () => standing(cluster, id, () => `Bob ${checks[0].have()}, Carol ${checks[1].have()} of ${expected.size} files`))));
    const complete = done.every((d) => d.complete);
    const s = (Math.max(...done.map((d) => d.at)) - acceptedAt) / 1000;
    const mb = (checks[0].have() + checks[1].have()) / 2 * P.bigSize / 1e6;
    figure('sync.big_cpu_ms_per_mb', cpuPer(cluster, cpuAtAccept, 2 * mb, 'MB delivered'), 'CPU-ms/MB', 2);
    console.log(`  sync from accept to both peers holding ${fmt(total / MiB, 0)} MiB: ${fmt(s, 2)} s (Bob ${fmt((done[0].at - acceptedAt) / 1000, 2)} s, Carol ${fmt((done[1].at - acceptedAt) / 1000, 2)} s) = ${fmt(mb / s, 0)} MB/s per peer, ${fmt((2 * mb) / s, 0)} MB/s delivered in all; ratio to rsync ${fmt(mb / s / rsRate, 2)} (target >= 0.65)${partial(complete)}`);
    figure('sync.big_mb_per_s', mb / s, 'MB/s');
    figure('sync.big_ratio_to_rsync', mb / s / rsRate, 'ratio', 2);
    if (!complete) {
      await retire(cluster, id, [1, 2]);
      throw new Error('the big files did not all arrive within the budget');
    }
    for (const [p] of expected) {
      const want = await sha256File(path.join(roots[0], p));
      for (const i of [1, 2]) if ((await sha256File(path.join(roots[i], p))) !== want) throw new Error(`${cluster.nodes[i].name}'s ${p} differs from Alice's`);
    }
    console.log('  content: identical on all three (SHA-256)');
    await retire(cluster, id, [1, 2]);
  });
  figure('sync.rsync_big_mb_per_s', rsRate, 'MB/s');
  Cluster.removeRoots(roots);
}

async function small(cluster: Cluster, base: string): Promise<void> {
  const t: Tree = P.small;
  const n = treeFiles(t);
  const roots = cluster.nodes.map((x) => path.join(base, `${x.name.toLowerCase()}-small`));
  await writeTree(roots[0], t, 'small');
  const rs = [0, 1, 2].map(() => rsync(roots[0], path.join(base, 'rsync-small')));
  console.log(`small: rsync -a of ${n} files of ${t.size / 1024} KiB in ${t.dirs} dirs: ${rs.map((s) => fmt(n / s, 0)).join(', ')} files/s`);
  figure('sync.rsync_small_files_per_s', n / median(rs), 'files/s', 0);
  await watched(cluster, 'small', async () => {
    const { id, acceptedAt, scanS, cpuAtAccept } = await share(cluster, 'small', roots, [{ node: 1, role: 'writer' }, { node: 2, role: 'reader' }]);
    console.log(`  Alice's first scan of the folder (before the clock): ${fmt(scanS, 1)} s`);
    const checks = [1, 2].map((i) => treeArrived(roots[i], t));
    const done = await Promise.all(checks.map((c, k) => within(c.check, `${cluster.nodes[k + 1].name}'s small files`, BUDGET_MS.small, 50, () => standing(cluster, id, () => `Bob ${checks[0].have()}, Carol ${checks[1].have()} of ${n}`))));
    const complete = done.every((d) => d.complete);
    const s = (Math.max(...done.map((d) => d.at)) - acceptedAt) / 1000;
    const got = (checks[0].have() + checks[1].have()) / 2;
    figure('sync.small_cpu_ms_per_file', cpuPer(cluster, cpuAtAccept, 2 * got, 'file delivered'), 'CPU-ms/file', 2);
    console.log(`  sync from accept to both peers holding ${n} files: ${fmt(s, 2)} s (Bob ${fmt((done[0].at - acceptedAt) / 1000, 2)} s, Carol ${fmt((done[1].at - acceptedAt) / 1000, 2)} s) = ${fmt(got / s, 0)} files/s (target >= 1500)${partial(complete)}`);
    figure('sync.small_files_per_s', got / s, 'files/s', 0);
    await retire(cluster, id, [1, 2]);
  });
  Cluster.removeRoots(roots);
}

async function latency(cluster: Cluster, base: string): Promise<void> {
  const roots = cluster.nodes.map((x) => path.join(base, `${x.name.toLowerCase()}-latency`));
  fs.mkdirSync(roots[0], { recursive: true });
  fs.writeFileSync(path.join(roots[0], 'seed.txt'), 'seed');
  await watched(cluster, 'latency', async () => {
    const { id } = await share(cluster, 'latency', roots, [{ node: 1, role: 'writer' }]);
    await until(() => fs.existsSync(path.join(roots[1], 'seed.txt')), 'the seed file on Bob', 60_000);
    const next = keystream('latency');
    const ms: number[] = [];
    for (let i = 0; i < P.latency; i++) {
      const rel = `w${i}.txt`;
      const data = next(1024);
      const t0 = performance.now();
      fs.writeFileSync(path.join(roots[0], rel), data);
      const there = path.join(roots[1], rel);
      const t1 = await until(() => fs.existsSync(there) && fs.statSync(there).size === 1024, `${rel} on Bob`, 30_000, 2);
      ms.push(t1 - t0);
      await pause(300); // separate samples: the next write is not caught in this one's scan
    }
    console.log(`latency: 1 KiB write on Alice → on Bob's disk, ${ms.length} times: ${ms.map((x) => fmt(x, 0)).join(', ')} ms; median ${fmt(median(ms), 0)}, max ${fmt(Math.max(...ms), 0)} (targets < 300, < 1000)`);
    figure('sync.latency_median_ms', median(ms), 'ms', 0);
    figure('sync.latency_max_ms', Math.max(...ms), 'ms', 0);
    await retire(cluster, id, [1]);
  });
  Cluster.removeRoots(roots);
}

/** Alice's host's bytes until they stay the same for `quietMs`. */
async function quietBytes(cluster: Cluster, quietMs = 1000): Promise<number> {
  let last = cluster.nodes[0].sentBytes();
  let since = performance.now();
  for (;;) {
    await pause(100);
    const now = cluster.nodes[0].sentBytes();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return now;
  }
}

async function newBlockBytes(before: string[], file: string): Promise<{ bytes: number; blocks: number; of: number }> {
  const known = new Set(before);
  const h = await hashFile(file);
  const fresh = h.blocks.filter((b) => !known.has(b.hash));
  return { bytes: fresh.reduce((s, b) => s + b.size, 0), blocks: fresh.length, of: h.blocks.length };
}

async function edit(cluster: Cluster, base: string): Promise<void> {
  const roots = cluster.nodes.map((x) => path.join(base, `${x.name.toLowerCase()}-edit`));
  const file = 'big.bin';
  const mine = path.join(roots[0], file);
  const theirs = path.join(roots[1], file);
  await writeRandomFile(mine, P.editSize, 'edit');
  await watched(cluster, 'edit', async () => {
    const { id } = await share(cluster, 'edit', roots, [{ node: 1, role: 'writer' }]);
    await until(filesArrived(roots[1], new Map([[file, P.editSize]])).check, `the ${P.editSize / MiB} MiB file on Bob`, 300_000, 50);
    /** Applies `change` on Alice; bytes her host sent until Bob has the new content and the links are quiet. */
    const measure = async (what: string, change: () => Promise<void>): Promise<number> => {
      const blocksBefore = (await hashFile(mine)).blocks.map((b) => b.hash);
      const start = await quietBytes(cluster);
      const ino0 = fs.statSync(theirs).ino;
      const t0 = performance.now();
      await change();
      const want = await sha256File(mine);
      let seen = `${ino0}`;
      const t1 = await until(
        async () => {
          const st = fs.statSync(theirs);
          const key = `${st.ino}/${st.mtimeMs}/${st.size}`;
          if (key === seen || st.ino === ino0) return false;
          seen = key;
          return (await sha256File(theirs)) === want;
        },
        `${what} on Bob`,
        120_000,
        20,
      );
      const sent = (await quietBytes(cluster)) - start;
      const ideal = await newBlockBytes(blocksBefore, mine);
      console.log(`edit: ${what}: Alice's host sent ${sent} bytes (${fmt(sent / MiB, 3)} MiB) on its links; on Bob's disk after ${fmt(t1 - t0, 0)} ms; blocks that changed: ${ideal.blocks} of ${ideal.of}, ${ideal.bytes} bytes`);
      return sent;
    };
    const editBytes = await measure(`1 MiB overwritten in the middle of ${P.editSize / MiB} MiB`, async () => {
      const h = await fsp.open(mine, 'r+');
      try {
        await h.write(keystream('edit/middle')(MiB), 0, MiB, Math.floor(P.editSize / 2));
      } finally {
        await h.close();
      }
    });
    figure('sync.edit_sent_bytes', editBytes, 'bytes', 0);
    const insertBytes = await measure(`1 byte inserted at the start of ${P.editSize / MiB} MiB`, async () => {
      const tmp = path.join(base, 'insert.tmp');
      const out = await fsp.open(tmp, 'w');
      try {
        await out.write(Buffer.from([0x5a]));
        for await (const chunk of fs.createReadStream(mine, { highWaterMark: 8 * MiB })) await out.write(chunk as Buffer);
      } finally {
        await out.close();
      }
      await fsp.rename(tmp, mine);
    });
    figure('sync.insert_sent_bytes', insertBytes, 'bytes', 0);
    console.log(`  targets: edit < ${1.5 * MiB} bytes (1.5 MiB), insertion < ${2 * MiB} bytes (2 MiB)`);
    await retire(cluster, id, [1]);
  });
  Cluster.removeRoots(roots);
}

async function catchup(cluster: Cluster, base: string): Promise<void> {
  const t: Tree = P.catchup;
  const n = treeFiles(t);
  const roots = cluster.nodes.map((x) => path.join(base, `${x.name.toLowerCase()}-catchup`));
  fs.mkdirSync(roots[0], { recursive: true });
  fs.writeFileSync(path.join(roots[0], 'seed.txt'), 'seed');
  const carol = cluster.nodes[2];
  // Read while her host runs (the getter asks it).
  const carolFp = carol.fingerprint;
  let id = '';
  await watched(cluster, 'catchup (Carol away)', async () => {
    ({ id } = await share(cluster, 'catchup', roots, [{ node: 1, role: 'writer' }, { node: 2, role: 'reader' }]));
    await Promise.all([1, 2].map((i) => until(() => fs.existsSync(path.join(roots[i], 'seed.txt')), `the seed file on ${cluster.nodes[i].name}`, 60_000)));
    await carol.stop();
    const t0 = performance.now();
    await writeTree(roots[0], t, 'catchup');
    const written = performance.now();
    const bob = treeArrived(roots[1], t);
    const live = await within(bob.check, `${n} files on Bob`, BUDGET_MS.live, 200, () => standing(cluster, id, () => `${bob.have()} of ${n} on Bob`));
    const s = (live.at - t0) / 1000;
    console.log(`catchup: ${n} empty files in ${t.dirs} dirs written on Alice in ${fmt((written - t0) / 1000, 1)} s; ${bob.have()} live on Bob's disk ${fmt(s, 1)} s after the first write (${fmt(bob.have() / s, 0)} entries/s, Alice's scan included)${partial(live.complete)}`);
    figure('sync.live_100k_entries_per_s', bob.have() / s, 'entries/s', 0);
  });
  await watched(cluster, 'catchup (Carol back)', async () => {
    // What Carol lacks, by Alice's count while Carol is away (her vector minus Carol's last one).
    const away = (await cluster.nodes[0].status(id)).peers.find((p) => p.fingerprint === carolFp);
    const restart = performance.now();
    // What the senders' hosts put on their links (to Carol: the rest is quiet meanwhile), to see
    // whether both senders sent her the whole backlog or one held it (protocol 4).
    const sentFrom = (): number[] => [cluster.nodes[0].sentBytes(), cluster.nodes[1].sentBytes()];
    const sent0 = sentFrom();
    let sentAtZero: number[] | undefined;
    await carol.start(sidecarEnv());
    await carol.connectApi();
    const arrived = treeArrived(roots[2], t);
    // Entries (not files): when Carol's status first says she is behind by none with Alice's
    // vector in (before it, her status is 'checking' and counts from Alice's last known vector),
    // and when Alice's view of Carol (her advertised vector) went from lacking entries to none.
    let carolZeroAt: number | undefined;
    /** The most entries Carol lacked, as her status or Alice's said (the files' entries and their directories'). */
    let lacked = away?.theyLackEntries ?? 0;
    /** Her sidecar's CPU seconds (all threads, from its start) when she lacked none. */
    let carolCpuAtZero: number | undefined;
    let aliceSawLack = false;
    let aliceZeroAt: number | undefined;
    let stopPolling = false;
    const statusLoop = (async () => {
      // Until Carol lacks none: polling her panel every 50 ms for the whole apply would be part of what it measures.
      while (!stopPolling && carolZeroAt === undefined) {
        const [c, a] = await Promise.all([carol.status(id).catch(() => undefined), cluster.nodes[0].status(id).catch(() => undefined)]);
        const now = performance.now();
        const alice = c?.peers.find((p) => p.fingerprint === cluster.nodes[0].fingerprint);
        if (c && alice?.vector === 'fresh') lacked = Math.max(lacked, c.behindEntries);
        if (carolZeroAt === undefined && c && alice?.online && alice.vector === 'fresh' && c.behindEntries === 0 && alice.weLackEntries === 0) {
          carolZeroAt = now;
          const pid = carol.sidecarPid();
          carolCpuAtZero = pid === undefined ? undefined : cpuSeconds(pid);
          sentAtZero = sentFrom();
        }
        const seen = a?.peers.find((p) => p.fingerprint === carol.fingerprint);
        if (seen?.online && seen.theyLackEntries > 0) aliceSawLack = true;
        // Alice's count of what Carol lacks is exact once Carol spoke: her vector minus Carol's.
        if (seen?.online) lacked = Math.max(lacked, seen.theyLackEntries);
        else if (aliceZeroAt === undefined && aliceSawLack && seen?.online && seen.theyLackEntries === 0) aliceZeroAt = now;
        await pause(50);
      }
    })();
    const got = await within(arrived.check, `${n} files on Carol`, BUDGET_MS.catchup, 100, () => standing(cluster, id, () => `${arrived.have()} of ${n} on Carol`));
    stopPolling = true;
    await statusLoop;
    const ready = carol.readyAtMs ?? restart;
    const s = (got.at - ready) / 1000;
    const have = arrived.have();
    console.log(`  Carol restarted (host + sidecar): sidecar's folder service ready after ${fmt((ready - restart) / 1000, 2)} s; ${have} of ${n} files on her disk ${fmt(s, 2)} s after that (${fmt((got.at - restart) / 1000, 2)} s after the restart) = ${fmt(have / s, 0)} files/s${partial(got.complete)}`);
    const after = (t?: number): string => (t === undefined ? 'not seen' : `${fmt((t - ready) / 1000, 2)} s after ready`);
    console.log(`  entries: Carol's status first said behind 0 with Alice's vector in ${after(carolZeroAt)}, having lacked ${lacked} (${carolZeroAt === undefined ? '-' : fmt(lacked / ((carolZeroAt - ready) / 1000), 0)} entries/s, target >= 50,000; her sidecar had used ${carolCpuAtZero === undefined ? '-' : fmt(carolCpuAtZero, 1)} CPU-s since its start by then); Alice's view of Carol went from lacking entries to none ${aliceSawLack ? after(aliceZeroAt) : 'not seen (never seen lacking)'}`);
    const mb = (i: number, at?: number[]): string => (at === undefined ? '-' : fmt((at[i] - sent0[i]) / 1e6, 1));
    const sentEnd = sentFrom();
    console.log(`  sent on their links until Carol lacked none / until her files were there: Alice's host ${mb(0, sentAtZero)} / ${mb(0, sentEnd)} MB, Bob's ${mb(1, sentAtZero)} / ${mb(1, sentEnd)} MB`);
    figure('sync.catchup_files_per_s', have / s, 'files/s', 0);
    figure('sync.catchup_entries_per_s', carolZeroAt === undefined ? NaN : lacked / ((carolZeroAt - ready) / 1000), 'entries/s', 0);
    await retire(cluster, id, [1, 2]);
  });
  Cluster.removeRoots(roots);
}

async function main(): Promise<void> {
  ensureRsync();
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'kinfolder-bench-sync-'));
  const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load average ${load()} (shared: wall times are noisy; CPU seconds less so)${quick ? ' [--quick sizes]' : ''}`);
  const t0 = performance.now();
  const cluster = await Cluster.start(path.join(root, 'nodes'), ['Alice', 'Bob', 'Carol'], sidecarEnv());
  console.log(`three devhost apps with sidecars up and friends in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const data = path.join(root, 'data');
  fs.mkdirSync(data);
  const workloads: [string, (c: Cluster, b: string) => Promise<void>][] = [
    ['big', big],
    ['small', small],
    ['latency', latency],
    ['edit', edit],
    ['catchup', catchup],
  ];
  let failed = 0;
  try {
    for (const [name, run] of workloads) {
      if (only && !only.includes(name)) continue;
      try {
        await run(cluster, data);
      } catch (e) {
        failed++;
        console.log(`${name}: FAILED: ${(e as Error).stack ?? e}${(e as Error).cause ? `\n  cause: ${String((e as Error).cause)}` : ""}`);
        for (const n of cluster.nodes) console.log(`  last log lines of ${n.name}:\n${n.logLines.slice(-15).map((l) => `    ${l.slice(0, 300)}`).join('\n')}`);
      }
    }
  } finally {
    await cluster.stop();
    await fsp.rm(root, { recursive: true, force: true });
  }
  if (peaks.length) figure('sync.peak_rss_mb', Math.max(...peaks), 'MB', 0);
  console.log(`total ${fmt((performance.now() - t0) / 1000, 0)} s; load average at the end ${load()}`);
  const required = ['sync.big_mb_per_s', 'sync.rsync_big_mb_per_s', 'sync.small_files_per_s', 'sync.latency_median_ms', 'sync.latency_max_ms', 'sync.edit_sent_bytes', 'sync.insert_sent_bytes', 'sync.catchup_entries_per_s', 'sync.peak_rss_mb'];
  for (const [k, v] of figures) if (!required.includes(k)) console.log(v);
  for (const r of required) console.log(figures.get(r) ?? `figure ${r} nan -`);
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
