/**
 * Apply throughput for many small files: `npm run bench -- apply` (or `node --import tsx bench/apply.bench.ts`).
 *
 * A log of 10,000 files of 4 KiB in 100 directories (10,100 entries, signed by a writer) is
 * handed to a fresh FolderEngine on an empty folder, as a peer's batch would be; the blocks
 * come from an in-memory BlockSource (no network). Measured from the ingest call until every
 * file is on disk and recorded (the ingest resolves after its apply), split into the replica's
 * part (verify + store the entries) and the engine's (apply). The engine's scanner watches
 * the folder meanwhile, as in the sidecar. Median of 3 runs, each on a fresh store and folder.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { pluginSignedMessage } from '../proto';
import type { Member } from '../plugin/src/acl';
import type { BlockSource } from '../plugin/src/apply';
import { FolderEngine } from '../plugin/src/folder';
import type { NewChange, Signer } from '../plugin/src/log';
import { OpenpgpVerifier } from '../plugin/src/log/openpgp-verifier';
import { FolderReplica } from '../plugin/src/replica';
import { chunkBuffer, POSIX_TRAITS } from '../plugin/src/scan';
import { Store } from '../plugin/src/store';

const FOLDER = '6b696e666f6c6465722d6170706c7931';
// APPLY_BENCH_FILES / APPLY_BENCH_RUNS: smaller runs while profiling.
const FILES = Number(process.env.APPLY_BENCH_FILES ?? 10_000);
const DIRS = 100;
const SIZE = 4096;
const RUNS = Number(process.env.APPLY_BENCH_RUNS ?? 3);
const wrap = (m: Uint8Array): Uint8Array => pluginSignedMessage('kinfolder', m);
const verifier = new OpenpgpVerifier({ wrap });

interface Identity {
  readonly fp: string;
  readonly pub: string;
  readonly signer: Signer;
}

async function identity(name: string): Promise<Identity> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
  const signer: Signer = {
    async sign(message) {
      return (await openpgp.sign({ message: await openpgp.createMessage({ binary: wrap(message) }), signingKeys: privateKey, detached: true, format: 'binary' })) as Uint8Array;
    },
  };
  return { fp: privateKey.getFingerprint().toUpperCase(), pub: privateKey.toPublic().armor(), signer };
}

function keystream(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
    if (d.name === '.kinfolder') continue;
    if (d.isDirectory()) n += await countFiles(path.join(dir, d.name));
    else if (d.isFile()) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'kinfolder-bench-apply-'));
  try {
    console.log(`cpus: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${os.loadavg()[0].toFixed(2)} (other processes share these cores)`);
    const [alice, bob] = [await identity('alice'), await identity('bob')];
    const members: Member[] = [
      { fingerprint: alice.fp, name: 'alice', publicKeyArmored: alice.pub, role: 'admin' },
      { fingerprint: bob.fp, name: 'bob', publicKeyArmored: bob.pub, role: 'writer' },
    ];
    const clock = (): number => Date.now();

    // --- the source: alice's log and the blocks ---
    const blocks = new Map<string, Buffer>();
    const changes: NewChange[] = [];
    const now = Date.now();
    const change = (body: NewChange['body']): NewChange => ({ folder: FOLDER, author: alice.fp, wallTimeMs: now, body, parents: [] });
    for (let d = 0; d < DIRS; d++) changes.push(change({ op: 'put', path: `d${d}`, meta: { type: 'dir', size: 0, mode: 0o755, mtimeMs: now, contentHash: createHash('sha256').digest('hex'), blocks: [] } }));
    const next = keystream('apply-bench');
    const sample: Array<{ path: string; data: Buffer }> = [];
    for (let i = 0; i < FILES; i++) {
      const data = next(SIZE);
      const h = chunkBuffer(data);
      let offset = 0;
      for (const b of h.blocks) blocks.set(b.hash, data.subarray(offset, (offset += b.size)));
      const p = `d${i % DIRS}/f${i}.bin`;
      if (i % 997 === 0) sample.push({ path: p, data });
      changes.push(change({ op: 'put', path: p, meta: { type: 'file', size: SIZE, mode: 0o644, mtimeMs: now - (i % 1000), contentHash: h.contentHash, blocks: h.blocks.map((b) => ({ hash: b.hash, size: b.size })) } }));
    }
    const srcDir = path.join(base, 'source');
    await fsp.mkdir(srcDir);
    const srcStore = await Store.open(path.join(srcDir, 'store.sqlite'));
    const source = await FolderReplica.create({ store: srcStore, folder: FOLDER, self: alice.fp, signer: alice.signer, verifier, clock, name: 'bench', members });
    await source.appendLocal(changes);
    const manifests = source.manifestChain();
    const entries: Uint8Array[] = [];
    const checkpoints: Uint8Array[] = [];
    const { ranges } = await source.missingFor(new Map());
    for await (const b of source.entriesFor(ranges)) {
      entries.push(...b.entries);
      checkpoints.push(...b.checkpoints);
    }
    await source.close();
    await srcStore.close();
    console.log(`source log: ${entries.length} entries, ${checkpoints.length} checkpoints, ${blocks.size} blocks of ${SIZE} bytes`);

    const memory: BlockSource = {
      read: async (hash, size) => {
        const b = blocks.get(hash);
        return b !== undefined && b.length === size ? b : undefined;
      },
    };

    // --- runs ---
    const total: number[] = [];
    const applyRates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const dir = path.join(base, `run${r}`);
      const root = path.join(dir, 'root');
      await fsp.mkdir(root, { recursive: true });
      const store = await Store.open(path.join(dir, 'store.sqlite'));
      const replica = await FolderReplica.join({ store, folder: FOLDER, self: bob.fp, signer: bob.signer, verifier, clock, manifests });
      const engine = await FolderEngine.start({ root, store, replica, self: bob.fp, blocks: memory, clock, fsTraits: POSIX_TRAITS, scan: { rescanIntervalMs: 0 } });
      let tIngested = 0;
      let applied = 0;
      const problems: string[] = [];
      const sub = engine.events.subscribe((e) => {
        if (e.type === 'folder:changed' && e.origin === 'peer') tIngested = performance.now();
        if (e.type === 'folder:applied') applied += e.report.applied.length;
        if (e.type === 'folder:problem' || (e.type === 'folder:refused' && e.source === 'apply')) problems.push(`${e.type} ${e.path ?? ''} ${e.message}`);
      });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await engine.ingest({ manifests, entries, checkpoints });
      const t1 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      sub.unsubscribe();
      if (res.accepted !== entries.length) throw new Error(`ingest accepted ${res.accepted} of ${entries.length}`);
      const onDisk = await countFiles(root);
      if (onDisk !== FILES || problems.length > 0) throw new Error(`${onDisk} files on disk of ${FILES}; ${problems.slice(0, 5).join('; ')}`);
      for (const s of sample) if (Buffer.compare(await fsp.readFile(path.join(root, s.path)), s.data) !== 0) throw new Error(`${s.path} differs`);
      let rows = 0;
      for await (const row of store.localFiles(FOLDER)) if (row.type === 'file') rows++;
      if (rows !== FILES) throw new Error(`${rows} local index rows for ${FILES} files`);
      const seconds = (t1 - t0) / 1000;
      const applySeconds = (t1 - tIngested) / 1000;
      total.push(FILES / seconds);
      applyRates.push(FILES / applySeconds);
      console.log(
        `run ${r + 1}: ${fmt(seconds)} s end to end (${fmt((tIngested - t0) / 1000)} s ingest, ${fmt(applySeconds)} s apply, ${applied} paths applied), ` +
          `${fmt(FILES / seconds)} files/s; CPU ${fmt((cpu.user + cpu.system) / 1e6)} s`,
      );
      await engine.stop();
      await replica.close();
      await store.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
    console.log(`apply alone (after the replica stored the entries): ${applyRates.map(fmt).join(', ')} files/s`);
    console.log(`figure apply.apply_only_files_per_s ${fmt(median(applyRates))} files/s`);
    console.log(`figure apply.small_files_per_s ${fmt(median(total))} files/s`);
  } finally {
    await fsp.rm(base, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
