/**
 * The folder's resolved state read from the store, never held whole in memory.
 *
 * Why not the log's FolderState: it keeps every entry hash and a tree node per path in
 * memory (~0.64 KB per path), far beyond the 200 MB budget for a 1M-entry folder. The store
 * already keeps, per path, exactly the heads FolderState would (same rule: entries touching the
 * path that no entry touching it names as a parent), with author and Lamport clock. What the
 * store's heads lack is whether a head is live (put, move target) or a deletion (delete, move
 * source). A put is by far the most common entry, so the state keeps in memory only the
 * entries that can be dead somewhere: deletes, and moves with their target (~100 bytes each).
 * That set must be complete: a replica that opened on a store already holding entries builds
 * it once, on the first state query, by streaming every feed (`scan`); after that every
 * stored entry passes through `remember`. Wall times (for conflict-copy names) are read from
 * the store per head, only for `resolve` and `conflicts`.
 *
 * The state hash is the same Merkle hash as FolderState.stateHash() (PROTOCOL.md, "State
 * hash"; a property test checks both agree), computed in one pass over `pathsWithHeads` in path
 * order. Every directory's paths are contiguous in that order (they share the prefix "dir/"),
 * so a stack of open directories is enough; memory is O(depth x entries per directory).
 */
import { hash as oneShotHash } from 'node:crypto';
import { compareHeads, compareUtf8, decodeEntry, type Entry, type Hash, type PathResolution, type Touch } from '../log';
import { Writer } from '../log/codec';
import type { HeadRef, PathHeads, StreamOptions } from '../store';
import { checkAborted } from './errors';

/** What the state needs from the store. */
export interface HeadSource {
  heads(folder: string, path: string): Promise<HeadRef[]>;
  pathsWithHeads(folder: string, options?: StreamOptions): AsyncIterableIterator<PathHeads>;
  entry(hash: string): Promise<{ bytes: Buffer } | undefined>;
}

/** Every stored entry of the folder, encoded, for building the set of deletions once. */
export type EntryScan = (signal?: AbortSignal) => AsyncIterable<{ hash: Hash; paths: readonly string[]; bytes: Buffer }>;

/** null: a delete (dead on its path); a string: a move's target (dead at its source, live there). */
type Dead = null | string;

const NODE_TAG = Buffer.from('KINFOLDER-STATE-NODE-V1\0', 'ascii');
const NONE: readonly Hash[] = [];
const NO_WINNER = { winner: null, losers: NONE } as const;

/** A resolved path's contribution to its node: the live winner and the sorted live losers. */
interface Own {
  readonly winner: Hash | null;
  readonly losers: readonly Hash[];
}

/** A finished child: a leaf's own resolution (it may still get children), a subtree hash, or null (nothing live). */
type Kid = Own | Buffer | null;
const isOwn = (k: Kid): k is Own => k !== null && !(k instanceof Uint8Array);

interface Frame {
  readonly name: string;
  own: Own | null;
  readonly kids: Map<string, Kid>;
}

interface Ranked {
  readonly hash: Hash;
  readonly author: string;
  readonly lamport: number;
  readonly live: boolean;
}

/** compareHeads without wall times (they do not rank). */
const rank = (a: Ranked, b: Ranked): number => compareHeads(a as Touch, b as Touch);

export class ReplicaState {
  private readonly dead = new Map<Hash, Dead>();
  private complete: boolean;
  private building: Promise<void> | null = null;

  /** `empty`: the store held no entry of the folder when the replica opened, so nothing needs scanning. */
  constructor(
    private readonly store: HeadSource,
    private readonly folder: string,
    private readonly scan: EntryScan,
    empty: boolean,
  ) {
    this.complete = empty;
  }

  /** Called for every entry stored (after its commit), so the set of deletions stays complete. */
  /** `remember` for each of a batch's stored entries. */
  rememberAll(entries: ReadonlyArray<{ readonly hash: Hash; readonly entry: Entry }>): void {
    for (let i = 0; i < entries.length; i++) this.remember(entries[i].hash, entries[i].entry);
  }

  remember(hash: Hash, entry: Entry): void {
    const b = entry.body;
    if (b.op === 'delete') this.dead.set(hash, null);
    else if (b.op === 'move' && b.from !== b.to) this.dead.set(hash, b.to);
  }

  /** Deletes and moves held in memory. */
  get deadEntries(): number {
    return this.dead.size;
  }

  private async ensureComplete(signal?: AbortSignal): Promise<void> {
    if (this.complete) return;
    this.building ??= (async () => {
      let n = 0;
      for await (const e of this.scan(signal)) {
        if ((++n & 4095) === 0) checkAborted(signal, 'state');
        // Two paths: a move (from, to); one path: a put or a delete (or a move onto itself, live).
        if (e.paths.length === 2) this.dead.set(e.hash, e.paths[1]);
        else if (decodeEntry(e.bytes).body.op === 'delete') this.dead.set(e.hash, null);
      }
      this.complete = true;
    })().finally(() => {
      this.building = null;
    });
    await this.building;
  }

  private ranked(path: string, heads: readonly HeadRef[]): Ranked[] {
    const out: Ranked[] = heads.map((h) => {
      const d = this.dead.get(h.hash);
      return { hash: h.hash, author: h.author, lamport: h.lamport, live: d === undefined || (d !== null && d === path) };
    });
    return out.length > 1 ? out.sort(rank) : out;
  }

  /** Wall times of the heads, read from the store (only for resolutions shown to users). */
  private async touches(ranked: readonly Ranked[]): Promise<Touch[]> {
    const rows = await Promise.all(ranked.map((r) => this.store.entry(r.hash)));
    return ranked.map((r, i) => ({ ...r, wallTimeMs: rows[i] ? decodeEntry(rows[i].bytes).wallTimeMs : 0 }));
  }

  /** Heads of one path, best first, with the winner and the conflict copies; undefined if no head. */
  async resolve(path: string, signal?: AbortSignal): Promise<PathResolution | undefined> {
    await this.ensureComplete(signal);
    const heads = await this.store.heads(this.folder, path);
    if (heads.length === 0) return undefined;
    const t = await this.touches(this.ranked(path, heads));
    return { path, heads: t, winner: t[0], losers: t.slice(1).filter((x) => x.live) };
  }

  /** Every path with more than one head, in path order, streamed. */
  async *conflicts(signal?: AbortSignal): AsyncIterableIterator<PathResolution> {
    await this.ensureComplete(signal);
    for await (const group of this.groups(signal)) {
      for (const g of group) {
        if (g.heads.length < 2) continue;
        const t = await this.touches(this.ranked(g.path, g.heads));
        yield { path: g.path, heads: t, winner: t[0], losers: t.slice(1).filter((x) => x.live) };
      }
    }
  }

  /** Pages of paths with their heads. */
  private async *groups(signal?: AbortSignal, size = 2000): AsyncIterableIterator<PathHeads[]> {
    let group: PathHeads[] = [];
    for await (const ph of this.store.pathsWithHeads(this.folder, { signal, pageSize: 2000 })) {
      group.push(ph);
      if (group.length >= size) {
        checkAborted(signal, 'state');
        yield group;
        group = [];
      }
    }
    if (group.length > 0) yield group;
  }

  /** The folder's state hash: the same value as FolderState.stateHash() over the same entries. */
  async stateHash(signal?: AbortSignal): Promise<Hash> {
    const w = new Writer(4096);
    const stack: Frame[] = [{ name: '', own: null, kids: new Map() }];
    // Subtree hashes stay binary (no hex round trip per node); null: nothing live here or below.
    const hashNode = (own: Own | null, kids: Map<string, Kid> | null, root: boolean): Buffer | null => {
      let names: string[] = [];
      if (kids !== null && kids.size > 0) {
        names = [...kids.keys()];
        // Siblings mostly arrive in order (a subdirectory is inserted when it closes): sort only if needed.
        for (let i = 1; i < names.length; i++)
          if (compareUtf8(names[i - 1], names[i]) > 0) {
            names.sort(compareUtf8);
            break;
          }
      }
      const list: [string, Buffer][] = [];
      for (const name of names) {
        const k = (kids as Map<string, Kid>).get(name) as Kid;
        const h = isOwn(k) ? hashNode(k, null, false) : k;
        if (h !== null) list.push([name, h]);
      }
      const winner = own?.winner ?? null;
      if (winner === null && list.length === 0 && !root) return null;
      w.reset().raw(NODE_TAG);
      if (winner !== null) {
        w.u8(1).hash(winner, 'winner').varint((own as Own).losers.length, 'losers');
        for (const l of (own as Own).losers) w.hash(l, 'loser');
      } else w.u8(0);
      w.varint(list.length, 'children');
      for (const [name, h] of list) w.string(name, Infinity, 'name').raw(h);
      return oneShotHash('sha256', w.view(), 'buffer') as Buffer;
    };
    const pop = (): void => {
      const f = stack.pop() as Frame;
      stack[stack.length - 1].kids.set(f.name, hashNode(f.own, f.kids, false));
    };
    await this.ensureComplete(signal);
    for await (const group of this.groups(signal)) {
      for (const g of group) {
        let own: Own;
        if (g.heads.length === 1) {
          // The common case: one head, no ranking, no objects.
          const h = g.heads[0].hash;
          const d = this.dead.get(h);
          own = d === undefined || (d !== null && d === g.path) ? { winner: h, losers: NONE } : NO_WINNER;
        } else {
          const t = this.ranked(g.path, g.heads);
          const winner = t.length > 0 && t[0].live ? t[0].hash : null;
          own = { winner, losers: winner === null ? NONE : t.slice(1).filter((x) => x.live).map((x) => x.hash).sort() };
        }
        const segs = g.path.split('/');
        // Keep the open directories that are ancestors of this path; close the rest.
        let k = 0;
        while (k + 1 < stack.length && k < segs.length - 1 && stack[k + 1].name === segs[k]) k++;
        while (stack.length > k + 1) pop();
        for (let i = k; i < segs.length - 1; i++) {
          const parent = stack[stack.length - 1];
          // A path seen earlier as a leaf (a file, or a deletion) that now has children.
          const earlier = parent.kids.get(segs[i]);
          parent.kids.delete(segs[i]);
          stack.push({ name: segs[i], own: earlier !== undefined && isOwn(earlier) ? earlier : null, kids: new Map() });
        }
        stack[stack.length - 1].kids.set(segs[segs.length - 1], own);
      }
    }
    while (stack.length > 1) pop();
    return (hashNode(null, stack[0].kids, true) as Buffer).toString('hex');
  }
}

