/**
 * Log bench: the replica end to end on real sqlite files and real openpgp Ed25519 keys, signing
 * wrapped as the host does (pluginSignedMessage).
 *
 * - append: build put entries (1–4 blocks each), encode, hash, sign one checkpoint per batch,
 *   store; 100k entries from one writer, and 10 writers x 10k appending at once.
 * - catch-up: a second store takes everything from the first through missingFor/entriesFor
 *   (streamed from the store in batches) and ingest (decode, verify checkpoints, validate, store
 *   with heads), then computes the folder state hash from the store's heads.
 * - 1M: one writer's 1M entries generated once into a store, then caught up from it.
 *
 * Every measurement runs in a fresh child process, so its peak RSS (maxRSS) is its own.
 * Data lives under os.tmpdir() and is removed at the end.
 * Run: npm run bench -- log   (or node --import tsx bench/log.bench.ts [--quick])
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
import { FolderReplica } from '../plugin/src/replica';
import { Store } from '../plugin/src/store';

const FOLDER = '6b696e666f6c6465722d62656e636831';
const BLOCK = 128 * 1024;
const wrap = (m: Uint8Array): Uint8Array => pluginSignedMessage('kinfolder', m);

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
  /** catchup: the store to catch up from. */
  source?: string;
  /** catchup: compute the state hash at the end (and time it apart). */
  stateHash?: boolean;
}

interface Result {
  seconds: number;
  entries: number;
  stateHashSeconds?: number;
  /** CPU seconds (user + system, all threads) of the measured part: the machine is shared, wall time is noisy. */
  cpuSeconds: number;
  maxRssMb: number;
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
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

/** Pseudo block hashes: the scanner would have hashed the content; here only the log's work is measured. */
function fakeHash(a: number, b: number): string {
  return (a.toString(16).padStart(16, '0') + b.toString(16).padStart(16, '0')).repeat(2);
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
    meta: { type: 'file', size, mode: 0o644, mtimeMs: 1_750_000_000_000 + i, contentHash: fakeHash(writer * 1e9 + i, 0xffff), blocks },
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
    await Promise.all(
      replicas.map(async (r, k) => {
        for (let i = 0; i < t.perWriter; i += t.batch) {
          const changes: NewChange[] = [];
          for (let j = i; j < Math.min(i + t.batch, t.perWriter); j++) changes.push({ folder: FOLDER, author: ids[k].fp, wallTimeMs: 1_750_000_000_000 + j, body: putBody(k, j), parents: [] });
          await r.appendLocal(changes);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpuSeconds = cpuNow() - cpu0;
    await store.close();
    return { seconds, cpuSeconds, entries: t.writers * t.perWriter, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  const source = await Store.open(t.source as string);
  const from = await FolderReplica.open({ store: source, folder: FOLDER, self: ids[0].fp, signer: ids[0].signer, verifier, clock });
  const store = await Store.open(path.join(t.dir, 'catchup.sqlite'));
  const to = await FolderReplica.join({ store, folder: FOLDER, self: ids[0].fp, signer: ids[0].signer, verifier, clock, manifests: from.manifestChain() });
  const start = process.hrtime.bigint();
  const cpu0 = cpuNow();
  const { ranges } = await from.missingFor(await to.versionVector());
  let entries = 0;
  for await (const b of from.entriesFor(ranges, { batchEntries: t.batch })) {
    const r = await to.ingest({ entries: b.entries, checkpoints: b.checkpoints });
    if (r.refusals.length > 0 || r.deferred.length > 0) throw new Error(`refused: ${JSON.stringify(r.refusals.slice(0, 3))}`);
    entries += r.accepted;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuSeconds = cpuNow() - cpu0;
  let stateHashSeconds: number | undefined;
  if (t.stateHash) {
    const s = process.hrtime.bigint();
    const h = await to.state.stateHash();
    stateHashSeconds = Number(process.hrtime.bigint() - s) / 1e9;
    if (!/^[0-9a-f]{64}$/.test(h)) throw new Error('no state hash');
  }
  await store.close();
  await source.close();
  return { seconds, cpuSeconds, entries, stateHashSeconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

// ---------- parent side ----------

function child(task: Task, extraArgs: string[] = []): Result {
  const r = spawnSync(process.execPath, [...extraArgs, '--import', 'tsx', __filename, '--child', JSON.stringify(task)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`child ${task.kind} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(line.slice(7)) as Result;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 2): string => n.toFixed(d);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const runs = quick ? 1 : 3;
  const n100k = quick ? 20_000 : 100_000;
  const n1m = quick ? 100_000 : 1_000_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-log-bench-'));
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
    ];
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
      console.log(`append ${c.label} (checkpoint per ${c.batch}): ${fmt(appendS, 3)} s median of ${runs} [${appendRuns.map((r) => fmt(r.seconds, 3)).join(', ')}], ${fmt(c.writers * c.perWriter / appendS, 0)} entries/s, peak RSS ${fmt(median(appendRuns.map((r) => r.maxRssMb)), 0)} MB`);
      if (c.writers === 1) figures.push(`figure log.append_100k_s ${fmt(appendS, 3)} s`);
      if (c.writers === 10) figures.push(`figure log.append_10w_100k_s ${fmt(appendS, 3)} s`);

      const catchRuns: Result[] = [];
      for (let i = 0; i < runs; i++) {
        const dir = fresh('catchup');
        catchRuns.push(child({ kind: 'catchup', dir, keys, writers: c.writers, perWriter: c.perWriter, batch: 5_000, source: path.join(sourceDir, 'store.sqlite'), stateHash: true }));
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const rate = median(catchRuns.map((r) => r.entries / r.seconds));
      catchupRates.push(rate);
      console.log(`catch-up ${c.label}: ${fmt(rate, 0)} entries/s median of ${runs} [${catchRuns.map((r) => fmt(r.entries / r.seconds, 0)).join(', ')}], then state hash ${fmt(median(catchRuns.map((r) => r.stateHashSeconds ?? 0)), 3)} s, peak RSS ${fmt(median(catchRuns.map((r) => r.maxRssMb)), 0)} MB`);
      if (c.writers === 10) figures.push(`figure log.catchup_10w_entries_per_s ${fmt(rate, 0)} entries/s`);
      fs.rmSync(sourceDir, { recursive: true, force: true });
    }
    figures.push(`figure log.catchup_entries_per_s ${fmt(catchupRates[0], 0)} entries/s`);

    // 1M: generated once, caught up from it.
    const bigDir = fresh('big');
    const gen = child({ kind: 'append', dir: bigDir, keys, writers: 1, perWriter: n1m, batch: 10_000 });
    console.log(`generate ${n1m / 1e6}M entries (append, checkpoint per 10000): ${fmt(gen.seconds, 1)} s, ${fmt(gen.entries / gen.seconds, 0)} entries/s, peak RSS ${fmt(gen.maxRssMb, 0)} MB`);
    const bigRuns: Result[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const dir = fresh('catchup-big');
      bigRuns.push(child({ kind: 'catchup', dir, keys, writers: 1, perWriter: n1m, batch: 5_000, source: path.join(bigDir, 'store.sqlite'), stateHash: true }));
      fs.rmSync(dir, { recursive: true, force: true });
      if (bigRuns[0].seconds > 60) break; // one run is enough when it takes over a minute
    }
    const bigRate = median(bigRuns.map((r) => r.entries / r.seconds));
    const bigRss = median(bigRuns.map((r) => r.maxRssMb));
    console.log(`catch-up ${n1m / 1e6}M: ${fmt(bigRate, 0)} entries/s (${bigRuns.length} run${bigRuns.length > 1 ? 's, median' : ''}: [${bigRuns.map((r) => `${fmt(r.seconds, 1)} s`).join(', ')}]), state hash after it ${fmt(median(bigRuns.map((r) => r.stateHashSeconds ?? 0)), 1)} s, peak RSS ${fmt(bigRss, 0)} MB (source and destination stores in one process)`);
    figures.push(`figure log.catchup_1m_entries_per_s ${fmt(bigRate, 0)} entries/s`);
    figures.push(`figure log.catchup_1m_peak_rss_mb ${fmt(bigRss, 0)} MB`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  // The four required figures last, in the required order.
  const required = ['log.append_100k_s', 'log.catchup_entries_per_s', 'log.catchup_1m_entries_per_s', 'log.catchup_1m_peak_rss_mb'];
  for (const f of figures.filter((x) => !required.some((r) => x.startsWith(`figure ${r} `)))) console.log(f);
  for (const r of required) console.log(figures.find((x) => x.startsWith(`figure ${r} `)));
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
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
