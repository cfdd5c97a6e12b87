/** Folder-engine fixtures: nodes with a real root, sqlite store, replica and openpgp signer, and entries carried between them by hand. */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FolderEngine, type FolderEvent } from '../../../plugin/src/folder';
import { decodeEntry } from '../../../plugin/src/log';
import type { Store } from '../../../plugin/src/store';
import { FolderReplica, type IngestResult } from '../../../plugin/src/replica';
import { POSIX_TRAITS } from '../../../plugin/src/scan';
import type { BlockSource } from '../../../plugin/src/apply';
import { FOLDER, loadIdentities, member, openMemberNode, type Name, type TestIdentity } from '../replica/helpers';
import type { Member } from '../../../plugin/src/acl';

export { FOLDER };
// Generous: CI runs these beside other heavy suites on 2 cores; a condition, not a sleep.
export const WAIT_MS = 45_000;

export interface Node {
  readonly name: Name;
  readonly root: string;
  readonly store: Store;
  readonly replica: FolderReplica;
  engine: FolderEngine;
  readonly id: TestIdentity;
  /** A new engine over the same root, store and replica (the old one must be stopped). */
  readonly startEngine: () => Promise<FolderEngine>;
  /** The node whose blocks this one fetches (what the sync layer will do over the network). */
  peer?: Node;
}

export class Cluster {
  readonly nodes: Node[] = [];
  private readonly dirs: string[] = [];
  ids!: Record<Name, TestIdentity>;
  /** The members the creator's genesis names (default: alice admin, bob writer); reset by cleanup. */
  members: ((ids: Record<Name, TestIdentity>) => Member[]) | undefined;

  async init(): Promise<void> {
    this.ids = await loadIdentities();
  }

  /** A node of the folder: the creator (`from` undefined) or a member joining with the creator's manifests. */
  async node(name: Name, from?: Node, scan: { quietMs?: number; maxWaitMs?: number } = {}, engineOptions: { slowApplyMs?: number; applyRunPaths?: number; ingestAheadPaths?: number; recentEntries?: number; applyDeferMs?: number } = {}): Promise<Node> {
    const id = this.ids[name];
    const { dir, root, store, replica } = await openMemberNode(`kf-folder-${name}-`, id, () => this.members?.(this.ids) ?? [member(this.ids.alice, 'admin'), member(this.ids.bob, 'writer')], from);
    this.dirs.push(dir);
    const holder: { node?: Node } = {};
    // Blocks this node lacks come from its peer's folder, through the peer's block index.
    const network: BlockSource = { read: (h, size, signal) => holder.node?.peer?.engine.localBlocks.read(h, size, signal) ?? Promise.resolve(undefined) };
    const startEngine = async (): Promise<FolderEngine> => {
      const engine = await FolderEngine.start({
        root,
        store,
        replica,
        self: id.fingerprint,
        blocks: network,
        clock: () => Date.now(),
        fsTraits: POSIX_TRAITS,
        scan: { rescanIntervalMs: 0, quietMs: scan.quietMs ?? 40, maxWaitMs: scan.maxWaitMs, settleMs: 20 },
        ...engineOptions,
      });
      if (process.env.DEBUG_FOLDER) engine.events.subscribe((e) => console.log(name, JSON.stringify(e, (k, v) => (k === 'error' ? String(v) : v))));
      return engine;
    };
    const node: Node = { name, root, store, replica, engine: await startEngine(), id, startEngine };
    holder.node = node;
    this.nodes.push(node);
    return node;
  }

  async cleanup(): Promise<void> {
    this.members = undefined;
    for (const n of this.nodes.splice(0)) {
      await n.engine.stop();
      await n.replica.close();
      await n.store.close().catch(() => undefined);
    }
    await Promise.all(this.dirs.splice(0).map((d) => fsp.rm(d, { recursive: true, force: true })));
  }
}

/** Everything `from` has that `to` lacks, as a peer would send it (manifests too). */
export async function lacking(from: Node, to: Node): Promise<{ manifests: Uint8Array[]; entries: Uint8Array[]; checkpoints: Uint8Array[] }> {
  const { ranges } = await from.replica.missingFor(await to.replica.versionVector());
  const entries: Uint8Array[] = [];
  const checkpoints: Uint8Array[] = [];
  for await (const b of from.replica.entriesFor(ranges)) {
    entries.push(...b.entries);
    checkpoints.push(...b.checkpoints);
  }
  return { manifests: [...from.replica.manifestChain()], entries, checkpoints };
}

/** Everything `from` has that `to` lacks, handed to `to`'s engine as a peer would; resolves once `to` applied it. */
export async function carry(from: Node, to: Node): Promise<IngestResult> {
  const res = await to.engine.ingest(await lacking(from, to), { peer: from.id.fingerprint });
  await to.engine.idle();
  expect(res.refusals).toEqual([]);
  return res;
}

/** Both ways, then waits until both show one state hash. */
export async function exchange(a: Node, b: Node): Promise<void> {
  await carry(a, b);
  await carry(b, a);
}

/**
 * Resolves once `check` holds, checked now, after every event of the engines, and every
 * RECHECK_MS (a check may hang on what no engine event follows: a session's view of its peer,
 * a message on a link); fails after `ms`.
 */
export async function until(engines: readonly FolderEngine[], check: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let done = false;
    let busy = false;
    let again = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(recheck);
      for (const s of subs) s.unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const probe = (): void => {
      if (done) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      check().then(
        (ok) => {
          busy = false;
          if (ok) finish();
          else if (again) {
            again = false;
            probe();
          }
        },
        (e: unknown) => finish(e as Error),
      );
    };
    const timer = setTimeout(() => {
      if (process.env.DEBUG_FOLDER) console.log('timeout', what);
      finish(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const recheck = setInterval(probe, RECHECK_MS);
    const subs = engines.map((e) => e.events.subscribe(() => probe()));
    probe();
  });
}

const RECHECK_MS = 250;

/** The events of an engine gathered while `f` runs. */
export async function eventsDuring<T>(engine: FolderEngine, f: () => Promise<T>): Promise<{ value: T; events: FolderEvent[] }> {
  const events: FolderEvent[] = [];
  const sub = engine.events.subscribe((e) => events.push(e));
  try {
    return { value: await f(), events };
  } finally {
    sub.unsubscribe();
  }
}

/** The folder as a map of path → 'dir' | 'link:<target>' | sha256 of the bytes, without `.kinfolder`. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const d of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (r === '.kinfolder') continue;
      if (d.isDirectory()) {
        out.set(r, 'dir');
        await walk(r);
      } else if (d.isSymbolicLink()) out.set(r, `link:${await fsp.readlink(path.join(root, r))}`);
      else out.set(r, createHash('sha256').update(await fsp.readFile(path.join(root, r))).digest('hex'));
    }
  };
  await walk('');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** True when the path's winner is live (or not, for `live` false) in the node's log. */
export async function liveAt(n: Node, p: string, live = true): Promise<boolean> {
  const r = await n.replica.state.resolve(p);
  return live ? r?.winner.live === true : r !== undefined && !r.winner.live;
}

/** True when the node's log has a live winner at `p` whose content is `bytes`. */
export async function holds(n: Node, p: string, bytes: string | Buffer): Promise<boolean> {
  const r = await n.replica.state.resolve(p);
  if (!r?.winner.live) return false;
  const e = await n.store.entry(r.winner.hash);
  if (!e) return false;
  const body = decodeEntry(e.bytes).body;
  if (body.op === 'delete') return false;
  const onDisk = await fsp.readFile(path.join(n.root, p)).catch(() => undefined);
  return onDisk !== undefined && Buffer.compare(onDisk, Buffer.from(bytes)) === 0 && body.meta.size === Buffer.byteLength(bytes);
}

/** Both nodes show the same files and the same state hash. */
export async function converged(a: Node, b: Node): Promise<boolean> {
  const [ha, hb] = await Promise.all([a.replica.state.stateHash(), b.replica.state.stateHash()]);
  if (ha !== hb) return false;
  const [sa, sb] = await Promise.all([snapshot(a.root), snapshot(b.root)]);
  return JSON.stringify([...sa]) === JSON.stringify([...sb]);
}
