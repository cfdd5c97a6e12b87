/**
 * Log bench: the replica end to end on real sqlite files and real openpgp Ed25519 keys, signing
 * wrapped as the host does (pluginSignedMessage).
 *
 * - append: build put entries (1–4 blocks each), encode, hash, sign a checkpoint every 1,000
 *   entries (the replica's default), store one transaction per appendLocal call; 100k entries
 *   from one writer (calls of 10,000), and 10 writers x 10k appending at once (calls of 1,000).
 * - catch-up: a second store takes everything from the first through missingFor/entriesFor
 *   (streamed from the store in batches) and ingest (decode, verify checkpoints, validate, store
 *   with heads), then computes the folder state hash from the store's heads. The sending peer's
 *   frames are recorded to a file first (timed apart: the serve rate) and the receiver reads
 *   them from it: a live sender process would take CPU from the receiver on this 2-core
 *   machine, which a real peer, on its own machine, does not.
 * - 1M: one writer's 1M entries generated once into a store, then caught up from it.
 *
 * Every measurement runs in a fresh child process, so its peak RSS (maxRSS) is its own.
 * Data lives under os.tmpdir() and is removed at the end.
 * Run: npm run bench -- log   (or node --import tsx bench/log.bench.ts [--quick])
 * KF_BENCH_THREADS=1: each measured child prints its CPU seconds per thread and bytes written.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { pluginSignedMessage } from '../proto';
import type { Member } from '../plugin/src/acl';
import type { BlockRef, EntryBody, NewChange, Signer } from '../plugin/src/log';
import { OpenpgpVerifier } from '../plugin/src/log/openpgp-verifier';
import { FolderReplica, type IngestResult } from '../plugin/src/replica';
import { Store } from '../plugin/src/store';

const FOLDER = '6b696e666f6c6465722d62656e636831';
const BLOCK = 128 * 1024;
const wrap = (m: Uint8Array): Uint8Array => pluginSignedMessage('kinfolder', m);
/**
 * The measured children run as the sidecar does: with the Node flags its manifest asks the host
 * to launch it with (runtime.nodeArgs: heap sizing, which sets the peak RSS more than live data
 * does), and tsx's CommonJS hook only (its ESM loader runs a worker thread, ~30 MB RSS, that a
 * compiled sidecar would not have).
 */
const SIDECAR_NODE_ARGS: string[] = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'plugin.manifest.json'), 'utf8')) as { runtime?: { nodeArgs?: string[] } }).runtime?.nodeArgs ?? [];
const CHILD_FLAGS = [...SIDECAR_NODE_ARGS, '--require', 'tsx/cjs'];

interface KeyFile {
  armored: string[];
}

interface Task {
  kind: 'append' | 'catchup';
  dir: string;
  keys: string;
  writers: number;
  perWriter: number;
  batch: number;
  /** serve: the store to send from. */
  source?: string;
  /** catchup: the sender's frames, recorded from `source` (see `record`). */
  recorded?: string;
  /** catchup: compute the state hash at the end (and time it apart). */
  stateHash?: boolean;
  /** catchup: only seqs up to this (profiling runs). */
  limit?: number;
}

interface Result {
  seconds: number;
  entries: number;
  stateHashSeconds?: number;
  /** CPU seconds (user + system, all threads) of the measured part: the machine is shared, wall time is noisy. */
  cpuSeconds: number;
  /** Of which the main (JS) thread's; the rest is sqlite's and libuv's threads and V8's GC and compiler threads. Linux only. */
  mainCpuSeconds?: number;
  maxRssMb: number;
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The main thread's CPU seconds (utime + stime in clock ticks of 10 ms), from /proc; undefined elsewhere. */
const mainCpuNow = (): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};
/**
 * CPU seconds per thread (KF_BENCH_THREADS=1 prints them to stderr), from /proc: the main
 * thread, then V8's platform workers (the first four started: concurrent GC marking, parallel
 * scavenges, the optimizing compiler) and libuv's pool (started later: sqlite's statements).
 * On a shared machine the sum is what a change saves; the main thread alone hides GC moved
 * to the helpers.
 */
const threadCpu = (): Map<string, number> => {
  const out = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/self/task`)) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(process.pid) ? 'main' : `${name}/${tid}`;
      out.set(key, (out.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    }
  } catch {
    // not Linux: no breakdown
  }
  return out;
};
const threadCpuSince = (t0: Map<string, number>): string =>
  [...threadCpu()]
    .map(([k, v]) => [k, v - (t0.get(k) ?? 0)] as const)
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ') + `; written ${writtenMb()} MB since start`;

/** Bytes this process has written (to the WAL and the file, mostly), from /proc; '?' elsewhere. */
const writtenMb = (): string => {
  try {
    return (Number(/wchar: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))?.[1]) / 2 ** 20).toFixed(0);
  } catch {
    return '?';
  }
};
const since = (m0: number | undefined): number | undefined => {
  const m1 = mainCpuNow();
  return m0 === undefined || m1 === undefined ? undefined : m1 - m0;
};

// ---------- child side ----------

async function identities(keysFile: string, n: number): Promise<{ fp: string; pub: string; signer: Signer }[]> {
  const { armored } = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as KeyFile;
  const out = [];
  for (const a of armored.slice(0, n)) {
    const key = await openpgp.readPrivateKey({ armoredKey: a });
    const signer: Signer = {
      async sign(message) {
        return (await openpgp.sign({ message: await openpgp.createMessage({ binary: wrap(message) }), signingKeys: key, detached: true, format: 'binary' })) as Uint8Array;
      },
    };
    out.push({ fp: key.getFingerprint().toUpperCase(), pub: key.toPublic().armor(), signer });
  }
  return out;
}

/**
 * Pseudo block hashes (the scanner would have hashed the content; here only the log's work is
 * measured), made as the scanner's are: hex of 32 bytes, one flat string, like digest('hex').
 * Built by concatenation (prefix + padded counter) they were rope strings that the encoder had
 * to flatten, allocating and copying each hash again: work a scan's entries never cause, ~13% of
 * a 100k append's CPU.
 */
const HASH_BYTES = Buffer.from('b10c'.repeat(16), 'hex');
function fakeHash(a: number, b: number): string {
  const n = a * 8 + b;
  HASH_BYTES.writeUInt32BE(Math.floor(n / 2 ** 32), 24);
  HASH_BYTES.writeUInt32BE(n >>> 0, 28);
  return HASH_BYTES.toString('hex');
}

function putBody(writer: number, i: number): EntryBody {
  const nBlocks = 1 + (i % 4);
  const blocks: BlockRef[] = [];
  let size = 0;
  for (let b = 0; b < nBlocks; b++) {
    const s = b < nBlocks - 1 ? BLOCK : 1 + ((i * 7919) % BLOCK);
    blocks.push({ hash: fakeHash(writer * 1e9 + i, b), size: s });
    size += s;
  }
  return {
    op: 'put',
    path: `w${writer}/d${Math.floor(i / 1000)}/file-${i}.bin`,
    meta: { type: 'file', size, mode: 0o644, mtimeMs: 1_750_000_000_000 + i, contentHash: fakeHash(writer * 1e9 + i, 7), blocks },
  };
}

async function runTask(t: Task): Promise<Result> {
  const ids = await identities(t.keys, Math.max(t.writers, 1));
  const verifier = new OpenpgpVerifier({ wrap });
  const clock = (): number => 1_750_000_000_000;
  const members: Member[] = ids.map((id, k) => ({ fingerprint: id.fp, name: `w${k}`, publicKeyArmored: id.pub, role: k === 0 ? 'admin' : 'writer' }));
  if (t.kind === 'append') {
    const store = await Store.open(path.join(t.dir, 'store.sqlite'));
    const first = await FolderReplica.create({ store, folder: FOLDER, self: ids[0].fp, signer: ids[0].signer, verifier, clock, name: 'bench', members });
    const replicas = [first];
    for (let k = 1; k < t.writers; k++) replicas.push(await FolderReplica.open({ store, folder: FOLDER, self: ids[k].fp, signer: ids[k].signer, verifier, clock }));
    const start = process.hrtime.bigint();
    const cpu0 = cpuNow();
    const main0 = mainCpuNow();
    const threads0 = process.env.KF_BENCH_THREADS ? threadCpu() : new Map<string, number>();
    await Promise.all(
      replicas.map(async (r, k) => {
        // One batch in flight, as a scanner with the next batch ready would: it is signed while the previous commits.
        let inFlight: Promise<unknown> | null = null;
        for (let i = 0; i < t.perWriter; i += t.batch) {
          const changes: NewChange[] = [];
          for (let j = i; j < Math.min(i + t.batch, t.perWriter); j++) changes.push({ folder: FOLDER, author: ids[k].fp, wallTimeMs: 1_750_000_000_000 + j, body: putBody(k, j), parents: [] });
          const next = r.appendLocal(changes);
          if (inFlight) await inFlight;
          inFlight = next;
        }
        await inFlight;
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpuSeconds = cpuNow() - cpu0;
    const mainCpuSeconds = since(main0);
    if (process.env.KF_BENCH_THREADS) console.error(`CPU s per thread: ${threadCpuSince(threads0)}`);
    await store.close();
    return { seconds, cpuSeconds, mainCpuSeconds, entries: t.writers * t.perWriter, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  // The peer's bytes, recorded from the sending store beforehand (see `record`): on this 2-core
  // machine a live sender would take CPU from the receiver that a real peer, elsewhere, does not.
  const frames = readFrames(fs.createReadStream(t.recorded as string, { highWaterMark: 64 * 1024 }));
  const first = await frames.next();
  if (first.done) throw new Error('the sender sent nothing');
  const store = await Store.open(path.join(t.dir, 'catchup.sqlite'));
  const to = await FolderReplica.join({ store, folder: FOLDER, self: ids[0].fp, signer: ids[0].signer, verifier, clock, manifests: first.value.manifests });
  const memory = { rss: 0, heap: 0, external: 0, arrayBuffers: 0 };
  const sample = setInterval(() => {
    // rss() alone is a cheap read; the full breakdown walks the heap's spaces (2% of the main thread at 10 Hz).
    if (!process.env.KF_BENCH_MEMORY) return void (memory.rss = Math.max(memory.rss, process.memoryUsage.rss()));
    const m = process.memoryUsage();
    memory.rss = Math.max(memory.rss, m.rss);
    memory.heap = Math.max(memory.heap, m.heapTotal);
    memory.external = Math.max(memory.external, m.external);
    memory.arrayBuffers = Math.max(memory.arrayBuffers, m.arrayBuffers);
  }, 100);
  const start = process.hrtime.bigint();
  const cpu0 = cpuNow();
  const main0 = mainCpuNow();
  const threads0 = process.env.KF_BENCH_THREADS ? threadCpu() : new Map<string, number>();
  let entries = 0;
  const check = (r: IngestResult): void => {
    if (r.refusals.length > 0 || r.deferred.length > 0) throw new Error(`refused: ${JSON.stringify(r.refusals.slice(0, 3))}`);
    entries += r.accepted;
  };
  // One ingest in flight while the next batch is read: the replica validates it while sqlite commits the previous one.
  let inFlight: Promise<IngestResult> | null = null;
  for await (const b of frames) {
    const next = to.ingest({ entries: b.entries, checkpoints: b.checkpoints });
    if (inFlight) check(await inFlight);
    inFlight = next;
    if (process.env.KF_BENCH_SNAPSHOT && entries >= 150_000 && entries < 150_000 + t.batch) require('node:v8').writeHeapSnapshot(process.env.KF_BENCH_SNAPSHOT);
  }
  if (inFlight) check(await inFlight);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuSeconds = cpuNow() - cpu0;
  const mainCpuSeconds = since(main0);
  if (process.env.KF_BENCH_THREADS) console.error(`CPU s per thread: ${threadCpuSince(threads0)}`);
  let stateHashSeconds: number | undefined;
  const catchupMemory = { ...memory };
  if (t.stateHash) {
    const s = process.hrtime.bigint();
    const h = await to.state.stateHash();
    stateHashSeconds = Number(process.hrtime.bigint() - s) / 1e9;
    if (!/^[0-9a-f]{64}$/.test(h)) throw new Error('no state hash');
  }
  clearInterval(sample);
  if (process.env.KF_BENCH_MEMORY) for (const [phase, m] of [['catch-up', catchupMemory], ['catch-up + state hash', memory]] as const) console.error(`memory peaks during ${phase} (MB): ${JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / 2 ** 20)])))}`);
  await store.close();
  return { seconds, cpuSeconds, mainCpuSeconds, entries, stateHashSeconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

interface Frame {
  manifests: Buffer[];
  entries: Buffer[];
  checkpoints: Buffer[];
}

/** Frame: u32 byte length, then u32 counts of manifests, entries, checkpoints, then each item as u32 length + bytes. */
function encodeFrame(f: Frame): Buffer {
  const items = [...f.manifests, ...f.entries, ...f.checkpoints];
  const body = 12 + items.reduce((n, b) => n + 4 + b.length, 0);
  const out = Buffer.allocUnsafe(4 + body);
  out.writeUInt32BE(body, 0);
  out.writeUInt32BE(f.manifests.length, 4);
  out.writeUInt32BE(f.entries.length, 8);
  out.writeUInt32BE(f.checkpoints.length, 12);
  let o = 16;
  for (const b of items) {
    out.writeUInt32BE(b.length, o);
    b.copy(out, o + 4);
    o += 4 + b.length;
  }
  return out;
}

async function* readFrames(stream: NodeJS.ReadableStream): AsyncGenerator<Frame> {
  // Chunks are kept in a list until a whole frame is there: concatenating per chunk would copy a frame many times.
  const chunks: Buffer[] = [];
  let have = 0;
  let need = -1;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    have += chunk.length;
    for (;;) {
      if (need < 0 && have >= 4) need = 4 + (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).readUInt32BE(0);
      if (need < 0 || have < need) break;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
      const frame = all.subarray(4, need);
      const rest = all.subarray(need);
      chunks.length = 0;
      if (rest.length > 0) chunks.push(rest);
      have = rest.length;
      need = -1;
      const counts = [frame.readUInt32BE(0), frame.readUInt32BE(4), frame.readUInt32BE(8)];
      const lists: Buffer[][] = [[], [], []];
      let o = 12;
      counts.forEach((n, k) => {
        for (let i = 0; i < n; i++) {
          const l = frame.readUInt32BE(o);
          lists[k].push(frame.subarray(o + 4, o + 4 + l));
          o += 4 + l;
        }
      });
      yield { manifests: lists[0], entries: lists[1], checkpoints: lists[2] };
    }
  }
}

/** The sending peer: the source store's manifests, then its entries as entriesFor streams them, on stdout. */
async function serve(t: Task): Promise<void> {
  const ids = await identities(t.keys, 1);
  const source = await Store.open(t.source as string);
  const from = await FolderReplica.open({ store: source, folder: FOLDER, self: ids[0].fp, signer: ids[0].signer, verifier: new OpenpgpVerifier({ wrap }), clock: () => 0 });
  const write = (f: Frame): Promise<void> | void => {
    if (!process.stdout.write(encodeFrame(f))) return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
  };
  await write({ manifests: from.manifestChain(), entries: [], checkpoints: [] });
  const ranges = (await from.missingFor(new Map())).ranges.map((r) => ({ ...r, toSeq: Math.min(r.toSeq, t.limit ?? Infinity) }));
  for await (const b of from.entriesFor(ranges, { batchEntries: t.batch })) await write({ manifests: [], entries: b.entries, checkpoints: b.checkpoints });
  await source.close();
  await new Promise<void>((resolve) => process.stdout.end(resolve));
}

// ---------- parent side ----------

/**
 * Records what the sending peer puts on the wire for a catch-up from `source` (its manifests,
 * then its entries as entriesFor streams them, in frames) into a file, timed: the serve rate.
 */
function record(source: string, keys: string, batch: number, file: string): { seconds: number; bytes: number } {
  const out = fs.openSync(file, 'w');
  try {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...CHILD_FLAGS, __filename, '--serve', JSON.stringify({ kind: 'catchup', dir: '', keys, writers: 1, perWriter: 0, batch, source })], { stdio: ['ignore', out, 'inherit'] });
    if (r.status !== 0) throw new Error(`the sender failed (${r.status})`);
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, bytes: fs.fstatSync(out).size };
  } finally {
    fs.closeSync(out);
  }
}

function child(task: Task, extraArgs: string[] = []): Result {
  const r = spawnSync(process.execPath, [...extraArgs, ...CHILD_FLAGS, __filename, '--child', JSON.stringify(task)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`child ${task.kind} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(line.slice(7)) as Result;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 2): string => n.toFixed(d);
/** "CPU 2.10 s all threads, 1.05 s main thread": medians of the runs. */
const cpuText = (rs: readonly Result[], d = 2): string => {
  const main = rs.map((r) => r.mainCpuSeconds).filter((x): x is number => x !== undefined);
  return `CPU ${fmt(median(rs.map((r) => r.cpuSeconds)), d)} s all threads${main.length === rs.length ? `, ${fmt(median(main), d)} s main thread` : ''}`;
};

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // --only-1w: just one writer's 100k append and catch-up (a quicker A/B of the two main figures); --runs N.
  const only1w = process.argv.includes('--only-1w');
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Math.max(1, Number(process.argv[runsAt + 1])) : quick ? 1 : 3;
  const n100k = quick ? 20_000 : 100_000;
  const n1m = quick ? 100_000 : 1_000_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-log-bench-'));
  const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`machine: ${os.cpus().length} cores, load average ${load()} (shared: wall times are noisy, CPU seconds less so)`);
  console.log(`measured processes run with the sidecar's Node flags from plugin.manifest.json: ${SIDECAR_NODE_ARGS.join(' ') || 'none'}`);
  const figures: string[] = [];
  try {
    const keys = path.join(root, 'keys.json');
    const armored: string[] = [];
    for (let k = 0; k < 10; k++) armored.push((await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: `writer ${k}` }], format: 'armored' })).privateKey);
    fs.writeFileSync(keys, JSON.stringify({ armored }));
    const fresh = (name: string): string => {
      const d = path.join(root, `${name}-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`);
      fs.mkdirSync(d);
      return d;
    };

    const configs = [
      { label: `1 writer x ${n100k / 1000}k`, writers: 1, perWriter: n100k, batch: 10_000 },
      { label: `10 writers x ${n100k / 10_000}k`, writers: 10, perWriter: n100k / 10, batch: 1_000 },
    ].slice(0, only1w ? 1 : 2);
    const catchupRates: number[] = [];
    for (const c of configs) {
      const appendRuns: Result[] = [];
      let sourceDir = '';
      for (let i = 0; i < runs; i++) {
        const dir = fresh('append');
        appendRuns.push(child({ kind: 'append', dir, keys, writers: c.writers, perWriter: c.perWriter, batch: c.batch }));
        if (i === 0) sourceDir = dir;
        else fs.rmSync(dir, { recursive: true, force: true });
      }
      const appendS = median(appendRuns.map((r) => r.seconds));
      console.log(`append ${c.label} (appendLocal calls of ${c.batch}, a checkpoint per 1000): ${fmt(appendS, 3)} s median of ${runs} [${appendRuns.map((r) => fmt(r.seconds, 3)).join(', ')}], ${fmt(c.writers * c.perWriter / appendS, 0)} entries/s, ${cpuText(appendRuns)}, peak RSS ${fmt(median(appendRuns.map((r) => r.maxRssMb)), 0)} MB`);
      if (c.writers === 1) figures.push(`figure log.append_100k_s ${fmt(appendS, 3)} s`);
      if (c.writers === 10) figures.push(`figure log.append_10w_100k_s ${fmt(appendS, 3)} s`);

      const recorded = path.join(sourceDir, 'frames');
      const served = record(path.join(sourceDir, 'store.sqlite'), keys, 1_000, recorded);
      console.log(`serve ${c.label} (the sending peer: read from its store, framed, written to a file): ${fmt(served.seconds, 2)} s, ${fmt((c.writers * c.perWriter) / served.seconds, 0)} entries/s, ${fmt(served.bytes / 2 ** 20, 1)} MB`);
      const catchRuns: Result[] = [];
      for (let i = 0; i < runs; i++) {
        const dir = fresh('catchup');
        catchRuns.push(child({ kind: 'catchup', dir, keys, writers: c.writers, perWriter: c.perWriter, batch: 1_000, recorded, stateHash: true }));
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const rate = median(catchRuns.map((r) => r.entries / r.seconds));
      catchupRates.push(rate);
      console.log(`catch-up ${c.label}: ${fmt(rate, 0)} entries/s median of ${runs} [${catchRuns.map((r) => fmt(r.entries / r.seconds, 0)).join(', ')}], ${cpuText(catchRuns)} (receiver), then state hash ${fmt(median(catchRuns.map((r) => r.stateHashSeconds ?? 0)), 3)} s, peak RSS ${fmt(median(catchRuns.map((r) => r.maxRssMb)), 0)} MB`);
      if (c.writers === 10) figures.push(`figure log.catchup_10w_entries_per_s ${fmt(rate, 0)} entries/s`);
      fs.rmSync(sourceDir, { recursive: true, force: true });
    }
    figures.push(`figure log.catchup_entries_per_s ${fmt(catchupRates[0], 0)} entries/s`);

    if (!only1w) {
      // 1M: generated once, caught up from it.
      const bigDir = fresh('big');
      const gen = child({ kind: 'append', dir: bigDir, keys, writers: 1, perWriter: n1m, batch: 10_000 });
      console.log(`generate ${n1m / 1e6}M entries (appendLocal calls of 10000, a checkpoint per 1000): ${fmt(gen.seconds, 1)} s, ${fmt(gen.entries / gen.seconds, 0)} entries/s, peak RSS ${fmt(gen.maxRssMb, 0)} MB`);
      const bigRecorded = path.join(bigDir, 'frames');
      const bigServed = record(path.join(bigDir, 'store.sqlite'), keys, 1_000, bigRecorded);
      console.log(`serve ${n1m / 1e6}M: ${fmt(bigServed.seconds, 1)} s, ${fmt(n1m / bigServed.seconds, 0)} entries/s, ${fmt(bigServed.bytes / 2 ** 20, 0)} MB`);
      const bigRuns: Result[] = [];
      for (let i = 0; i < (quick ? 1 : 3); i++) {
        const dir = fresh('catchup-big');
        bigRuns.push(child({ kind: 'catchup', dir, keys, writers: 1, perWriter: n1m, batch: 1_000, recorded: bigRecorded, stateHash: true }));
        fs.rmSync(dir, { recursive: true, force: true });
        if (bigRuns[0].seconds > 60) break; // one run is enough when it takes over a minute
      }
      const bigRate = median(bigRuns.map((r) => r.entries / r.seconds));
      const bigRss = median(bigRuns.map((r) => r.maxRssMb));
      console.log(`catch-up ${n1m / 1e6}M: ${fmt(bigRate, 0)} entries/s (${bigRuns.length} run${bigRuns.length > 1 ? 's, median' : ''}: [${bigRuns.map((r) => `${fmt(r.seconds, 1)} s`).join(', ')}]), state hash after it ${fmt(median(bigRuns.map((r) => r.stateHashSeconds ?? 0)), 1)} s, ${cpuText(bigRuns, 1)}, peak RSS ${fmt(bigRss, 0)} MB (the receiving process)`);
      // The live set is small (batches of 1,000): the default V8 heap sizing, not live data, sets the peak. The
      // same catch-up with the old space capped, as a sidecar launcher could run it:
      const capped = child({ kind: 'catchup', dir: fresh('catchup-capped'), keys, writers: 1, perWriter: n1m, batch: 1_000, recorded: bigRecorded, stateHash: true }, ['--max-old-space-size=96']);
      console.log(`catch-up ${n1m / 1e6}M with --max-old-space-size=96: ${fmt(capped.entries / capped.seconds, 0)} entries/s, state hash ${fmt(capped.stateHashSeconds ?? 0, 1)} s, peak RSS ${fmt(capped.maxRssMb, 0)} MB`);
      figures.push(`figure log.catchup_1m_peak_rss_mb_old_space_96 ${fmt(capped.maxRssMb, 0)} MB`);
      figures.push(`figure log.catchup_1m_entries_per_s ${fmt(bigRate, 0)} entries/s`);
      figures.push(`figure log.catchup_1m_peak_rss_mb ${fmt(bigRss, 0)} MB`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`load average at the end ${load()}`);
  // The four required figures last, in the required order (those measured, with --only-1w).
  const required = ['log.append_100k_s', 'log.catchup_entries_per_s', 'log.catchup_1m_entries_per_s', 'log.catchup_1m_peak_rss_mb'];
  for (const f of figures.filter((x) => !required.some((r) => x.startsWith(`figure ${r} `)))) console.log(f);
  for (const r of required) {
    const f = figures.find((x) => x.startsWith(`figure ${r} `));
    if (f) console.log(f);
  }
}

const at = process.argv.indexOf('--child');
const serving = process.argv.indexOf('--serve');
if (serving >= 0) {
  serve(JSON.parse(process.argv[serving + 1]) as Task).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else if (at >= 0) {
  runTask(JSON.parse(process.argv[at + 1]) as Task).then(
    (r) => {
      console.log(`RESULT ${JSON.stringify(r)}`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
