/**
 * The folder's resolved state read from the store, never held whole in memory.
 *
 * Why not the log's FolderState: it keeps every entry hash and a tree node per path in
 * memory (~0.64 KB per path), which for a 1M-entry folder is far beyond the 200 MB budget.
 * The store already keeps, per path, exactly the heads FolderState would (same rule: entries
 * touching the path that no entry touching it names as a parent), with author and Lamport.
 * What the store's heads lack is whether a head is live (put, move target) or a deletion (delete,
 * move source) and its wall time; those come from the entry itself, through a bounded cache
 * filled as entries are appended or ingested, else from the store by hash.
 *
 * The state hash is the same Merkle hash as FolderState.stateHash() (PROTOCOL.md, "State
 * hash"; a test checks both agree), computed in one pass over `pathsWithHeads` in path order.
 * Every directory's paths are contiguous in that order (they share the prefix "dir/"), so a
 * stack of open directories is enough; memory is O(depth x entries per directory).
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

/** What a head's entry says about its paths: live where it puts, dead where it deletes. */
interface EntryFacts {
  readonly wallTimeMs: number;
  /** 'put' entries are live on their one path; 'delete' dead; a move dead at `from`, live at `to`. */
  readonly op: 'put' | 'delete' | 'move';
  readonly to?: string;
}

const factsOf = (e: Entry): EntryFacts =>
  e.body.op === 'move' ? { wallTimeMs: e.wallTimeMs, op: 'move', to: e.body.to } : { wallTimeMs: e.wallTimeMs, op: e.body.op };

const liveAt = (f: EntryFacts, path: string): boolean => (f.op === 'put' ? true : f.op === 'delete' ? false : path === f.to);

const NODE_TAG = Buffer.from('KINFOLDER-STATE-NODE-V1\0', 'ascii');
const EMPTY = '';

/** A resolved path's contribution to its node: the live winner and the sorted live losers. */
interface Own {
  readonly winner: Hash | null;
  readonly losers: readonly Hash[];
}

interface Frame {
  readonly name: string;
  own: Own | null;
  /** Finished children: a leaf's own resolution (it may still get children) or a subtree hash. */
  readonly kids: Map<string, { own: Own } | { hash: string }>;
}

export class ReplicaState {
  /** Facts of recently stored entries by hash; cleared whole when full (simple, bounded). */
  private readonly facts = new Map<Hash, EntryFacts>();

  constructor(
    private readonly store: HeadSource,
    private readonly folder: string,
    private readonly maxCachedEntries = 200_000,
  ) {}

  /** Remember what a stored entry says, so resolving its paths needs no store read. */
  remember(hash: Hash, entry: Entry): void {
    if (this.facts.size >= this.maxCachedEntries) this.facts.clear();
    this.facts.set(hash, factsOf(entry));
  }

  private async factsFor(hashes: readonly Hash[]): Promise<Map<Hash, EntryFacts>> {
    const out = new Map<Hash, EntryFacts>();
    const missing: Hash[] = [];
    for (const h of hashes) {
      const f = this.facts.get(h);
      if (f) out.set(h, f);
      else missing.push(h);
    }
    // Asked together: node-sqlite3 queues them on the reader without a round trip each.
    const rows = await Promise.all(missing.map((h) => this.store.entry(h)));
    rows.forEach((r, i) => {
      if (!r) return; // a head names a stored entry by the store's invariant; be lenient anyway
      const f = factsOf(decodeEntry(r.bytes));
      out.set(missing[i], f);
    });
    return out;
  }

  private touches(path: string, heads: readonly HeadRef[], facts: Map<Hash, EntryFacts>): Touch[] {
    const out: Touch[] = [];
    for (const h of heads) {
      const f = facts.get(h.hash);
      if (f) out.push({ hash: h.hash, author: h.author, lamport: h.lamport, wallTimeMs: f.wallTimeMs, live: liveAt(f, path) });
    }
    return out.sort(compareHeads);
  }

  /** Heads of one path, best first, with the winner and the conflict copies; undefined if no head. */
  async resolve(path: string): Promise<PathResolution | undefined> {
    const heads = await this.store.heads(this.folder, path);
    if (heads.length === 0) return undefined;
    const touches = this.touches(path, heads, await this.factsFor(heads.map((h) => h.hash)));
    return { path, heads: touches, winner: touches[0], losers: touches.slice(1).filter((t) => t.live) };
  }

  /** Every path with more than one head, in path order, streamed. */
  async *conflicts(signal?: AbortSignal): AsyncIterableIterator<PathResolution> {
    for await (const group of this.groups(signal)) {
      const facts = await this.factsFor(group.filter((g) => g.heads.length > 1).flatMap((g) => g.heads.map((h) => h.hash)));
      for (const g of group) {
        if (g.heads.length < 2) continue;
        const t = this.touches(g.path, g.heads, facts);
        yield { path: g.path, heads: t, winner: t[0], losers: t.slice(1).filter((x) => x.live) };
      }
    }
  }

  /** Pages of paths with their heads, a few hundred at a time. */
  private async *groups(signal?: AbortSignal, size = 1000): AsyncIterableIterator<PathHeads[]> {
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
    const hashNode = (own: Own | null, kids: Map<string, { own: Own } | { hash: string }>, root: boolean): string => {
      const list: [string, string][] = [];
      for (const name of [...kids.keys()].sort(compareUtf8)) {
        const k = kids.get(name) as { own: Own } | { hash: string };
        const h = 'hash' in k ? k.hash : hashNode(k.own, new Map(), false);
        if (h.length > 0) list.push([name, h]);
      }
      const winner = own?.winner ?? null;
      if (winner === null && list.length === 0 && !root) return EMPTY;
      w.reset().raw(NODE_TAG);
      if (winner !== null) {
        w.u8(1).hash(winner, 'winner').varint((own as Own).losers.length, 'losers');
        for (const l of (own as Own).losers) w.hash(l, 'loser');
      } else w.u8(0);
      w.varint(list.length, 'children');
      for (const [name, h] of list) w.string(name, Infinity, 'name').hash(h, 'child');
      return sha256(w.view());
    };
    const pop = (): void => {
      const f = stack.pop() as Frame;
      stack[stack.length - 1].kids.set(f.name, { hash: hashNode(f.own, f.kids, false) });
    };
    for await (const group of this.groups(signal)) {
      const facts = await this.factsFor(group.flatMap((g) => g.heads.map((h) => h.hash)));
      for (const g of group) {
        const t = this.touches(g.path, g.heads, facts);
        const winner = t.length > 0 && t[0].live ? t[0].hash : null;
        const own: Own = { winner, losers: winner === null ? [] : t.slice(1).filter((x) => x.live).map((x) => x.hash).sort() };
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
          stack.push({ name: segs[i], own: earlier && 'own' in earlier ? earlier.own : null, kids: new Map() });
        }
        stack[stack.length - 1].kids.set(segs[segs.length - 1], { own });
      }
    }
    while (stack.length > 1) pop();
    return hashNode(null, stack[0].kids, true);
  }
}

const sha256 = (b: Uint8Array): string => oneShotHash('sha256', b, 'hex');
