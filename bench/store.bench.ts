/**
 * Store bench: appendBatch throughput (entries + heads + version vectors + checkpoints in one
 * transaction per batch) for 100k entries from one writer and from 10 concurrent writers, plus
 * an update workload (every entry supersedes a head) and a streamed read. Medians of 3 runs,
 * each on a fresh file in os.tmpdir(). Run: node --import tsx bench/store.bench.ts
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Store, type CheckpointRecord, type EntryRecord } from '../plugin/src/store';

const TOTAL = 100_000;
const RUNS = 3;
const FOLDER = 'bench-folder';

function hex(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/**
 * One feed's entries as a scan would produce them: one new path each, in walk order (100 files
 * per directory), ~200 bytes encoded. `update`: the second half rewrites the first half's paths,
 * naming their entries as parents.
 */
function makeFeed(author: string, count: number, update: boolean): EntryRecord[] {
  const out: EntryRecord[] = [];
  let prev: string | null = null;
  for (let seq = 1; seq <= count; seq++) {
    const hash = hex(`${author}/${seq}`);
    const half = count / 2;
    const target = update && seq > half ? seq - half : seq;
    const bytes = Buffer.alloc(200, seq & 0xff);
    out.push({
      folder: FOLDER,
      author,
      seq,
      hash,
      prev,
      lamport: seq,
      paths: [`${author.slice(0, 8)}/dir${String(Math.floor(target / 100)).padStart(5, '0')}/file-${target}.bin`],
      parents: update && seq > half ? [hex(`${author}/${target}`)] : [],
      bytes,
    });
    prev = hash;
  }
  return out;
}

function checkpointFor(e: EntryRecord): CheckpointRecord {
  return { folder: e.folder, author: e.author, seq: e.seq, entryHash: e.hash, signature: Buffer.alloc(96, 1) };
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinfolder-store-bench-'));
  const store = await Store.open(path.join(dir, 'bench.sqlite'));
  try {
    return await fn(store);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Entries per CPU-second of this process (all threads), next to each wall-clock rate: the machine is shared, so wall time alone swings with other load. */
const cpuRates: Record<string, number[]> = {};
let cpuBucket: number[] = [];

/** Appends feeds concurrently, each in batches of `batchSize` with one checkpoint per batch. Returns entries/s. */
async function append(store: Store, feeds: EntryRecord[][], batchSize: number): Promise<number> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    feeds.map(async (entries) => {
      for (let i = 0; i < entries.length; i += batchSize) {
        const batch = entries.slice(i, i + batchSize);
        await store.appendBatch({ entries: batch, checkpoints: [checkpointFor(batch[batch.length - 1])] });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const total = feeds.reduce((n, f) => n + f.length, 0);
  cpuBucket.push(total / ((used.user + used.system) / 1e6));
  const vv = await store.versionVector(FOLDER);
  for (const f of feeds) if (vv.get(f[0].author)?.seq !== f.length) throw new Error(`feed ${f[0].author} incomplete`);
  return total / seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function scenario(name: string, run: () => Promise<number>): Promise<number> {
  const rates: number[] = [];
  cpuBucket = cpuRates[name] = [];
  for (let i = 0; i < RUNS; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    rates.push(await run());
  }
  const m = median(rates);
  const cpu = cpuBucket.length ? `  (append: ${Math.round(median(cpuBucket))} entries per CPU-second)` : '';
  console.log(`${name.padEnd(44)} ${rates.map((r) => Math.round(r).toString().padStart(8)).join(' ')}   median ${Math.round(m)} entries/s${cpu}`);
  return m;
}

const ONE = '1 writer, batches of 5000 (scan)';
const TEN = '10 concurrent writers, batches of 1000';

async function main(): Promise<void> {
  console.log(`store bench: ${TOTAL} entries per run, ${RUNS} runs, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  // Generated per run (outside the timed part) so the peak RSS below is one run's data plus the store.
  const oneWriter = (): EntryRecord[][] => [makeFeed('A'.repeat(40), TOTAL, false)];
  const tenWriters = (): EntryRecord[][] => Array.from({ length: 10 }, (_, w) => makeFeed(`${w}`.repeat(40), TOTAL / 10, false));
  const updates = (): EntryRecord[][] => [makeFeed('U'.repeat(40), TOTAL, true)];

  const one = await scenario(ONE, () => withStore((s) => append(s, oneWriter(), 5000)));
  const ten = await scenario(TEN, () => withStore((s) => append(s, tenWriters(), 1000)));
  const upd = await scenario('1 writer, half the entries supersede a head', () => withStore((s) => append(s, updates(), 5000)));
  const read = await scenario('streamed read of 100k entries (entriesRange)', () =>
    withStore(async (s) => {
      const feeds = oneWriter();
      await append(s, feeds, 5000);
      cpuBucket.length = 0; // the figure is about reading; the set-up append does not count
      const started = performance.now();
      let n = 0;
      for await (const _ of s.entriesRange(FOLDER, feeds[0][0].author, 1, TOTAL)) n++;
      if (n !== TOTAL) throw new Error(`read ${n}`);
      return n / ((performance.now() - started) / 1000);
    }),
  );
  let big: number | undefined;
  if (process.argv.includes('--1m')) big = await appendMillion();
  console.log(`load after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (one run's generated entries plus the store)`);
  // Per CPU-second of this process (all its threads): steadier than wall clock on a shared machine.
  const perCpu = (name: string): number => Math.round(median(cpuRates[name]));
  console.log(`figure store.append_entries_per_cpu_s ${perCpu(ONE)} entries/s`);
  console.log(`figure store.append_10_writers_entries_per_cpu_s ${perCpu(TEN)} entries/s`);
  console.log(`figure store.append_10_writers_entries_per_s ${Math.round(ten)} entries/s`);
  console.log(`figure store.append_updates_entries_per_s ${Math.round(upd)} entries/s`);
  console.log(`figure store.read_range_entries_per_s ${Math.round(read)} entries/s`);
  if (big !== undefined) console.log(`figure store.append_1m_entries_per_s ${Math.round(big)} entries/s`);
  console.log(`figure store.append_entries_per_s ${Math.round(one)} entries/s`);
}

/** `--1m`: one run of 1M entries from one writer, generated batch by batch, printing the rate per 200k to show it stays flat. */
async function appendMillion(): Promise<number> {
  const total = 1_000_000;
  const author = 'M'.repeat(40);
  return withStore(async (store) => {
    const started = performance.now();
    let lap = started;
    let prev: string | null = null;
    for (let from = 1; from <= total; from += 5000) {
      const entries: EntryRecord[] = [];
      for (let seq = from; seq < from + 5000; seq++) {
        const hash = hex(`${author}/${seq}`);
        entries.push({ folder: FOLDER, author, seq, hash, prev, lamport: seq, paths: [`dir${String(Math.floor(seq / 100)).padStart(5, '0')}/f${seq}`], parents: [], bytes: Buffer.alloc(200, seq & 0xff) });
        prev = hash;
      }
      await store.appendBatch({ entries, checkpoints: [checkpointFor(entries[entries.length - 1])] });
      const done = from + 4999;
      if (done % 200_000 === 0) {
        const now = performance.now();
        console.log(`1M run: ${done / 1000}k stored, last 200k at ${Math.round(200_000 / ((now - lap) / 1000))} entries/s, RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
        lap = now;
      }
    }
    return total / ((performance.now() - started) / 1000);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
