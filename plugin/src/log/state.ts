/**
 * Path state: which entries are the heads of each path, who wins a conflict, and the
 * folder's state hash. Depends only on the set of entries applied, never on their order,
 * on clocks or on who applied them, so every node with the same entries agrees.
 *
 * Rules:
 * - An entry touches its path (put, delete) or both paths (move: `from` as a delete, `to`
 *   as a put). The heads of a path are the entries touching it that no other entry touching
 *   it names as a parent.
 * - Winner among the heads: a live version (put, move target) beats a deletion, so a
 *   concurrent edit is never lost to a delete; then the highest Lamport clock, then the
 *   highest author fingerprint, then the highest entry hash. Every other live head is a
 *   loser, kept beside the winner as a conflict copy.
 * - State hash: a Merkle hash over the resolved tree (see PROTOCOL.md, "State hash").
 */
import { hash as oneShotHash } from 'node:crypto';
import { Writer, compareUtf8 } from './codec';
import type { Entry, Fingerprint, Hash, HashedEntry } from './types';

/**
 * One entry as seen from one path: what ranking and conflict names need, nothing more, so a
 * large folder's state stays small (the entry itself is in the store, by hash).
 */
export interface Touch {
  readonly hash: Hash;
  readonly author: Fingerprint;
  readonly lamport: number;
  readonly wallTimeMs: number;
  /** True for a put or the target of a move; false for a delete or the source of a move. */
  readonly live: boolean;
}

export interface PathResolution {
  readonly path: string;
  /** Every head, best first. */
  readonly heads: readonly Touch[];
  /** The version everyone shows at the path; a deletion when no head is live. */
  readonly winner: Touch;
  /** Live heads that lost: conflict copies. Best first. */
  readonly losers: readonly Touch[];
}

/** Orders heads best first: live, then Lamport, then author, then hash (all descending). */
export function compareHeads(a: Touch, b: Touch): number {
  if (a.live !== b.live) return a.live ? -1 : 1;
  if (a.lamport !== b.lamport) return b.lamport - a.lamport;
  if (a.author !== b.author) return a.author < b.author ? 1 : -1;
  return a.hash < b.hash ? 1 : a.hash > b.hash ? -1 : 0;
}

/** The touches of one entry: (path, live) pairs. */
export function touchesOf(e: Entry): { path: string; live: boolean }[] {
  const b = e.body;
  if (b.op === 'put') return [{ path: b.path, live: true }];
  if (b.op === 'delete') return [{ path: b.path, live: false }];
  return b.from === b.to ? [{ path: b.to, live: true }] : [{ path: b.from, live: false }, { path: b.to, live: true }];
}


const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** What names a conflict copy: the losing version's hash, author and wall clock. */
export interface CopyNameSource {
  readonly hash: Hash;
  readonly author: Fingerprint;
  readonly wallTimeMs: number;
}

const splitBase = (path: string): { dir: string; stem: string; ext: string } => {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? { dir: path.slice(0, slash + 1), stem: base.slice(0, dot), ext: base.slice(dot) } : { dir: path.slice(0, slash + 1), stem: base, ext: '' };
};

const COPY_TAG = '.sync-conflict-';
/** `YYYYMMDD-HHMMSS-<author7>`, then `-<hash prefix>` when two copies would share the name. */
const COPY_STAMP = /^\d{8}-\d{6}-[0-9A-Za-z]{7}(-[0-9a-f]{6,64})?$/;
/** Hex digits of the entry hash that tell two copies of one name apart (more when they share these). */
const COPY_HASH_DIGITS = 6;

/**
 * Name of the conflict copy of a losing version:
 * `dir/name.sync-conflict-YYYYMMDD-HHMMSS-<first 7 of author>[-<hash prefix>].ext`, time from
 * the loser's wall clock in UTC. A name without an extension (or a dot file) gets the suffix
 * at its end. `tag` (a prefix of the entry hash) is only for losers that would share a name:
 * see `conflictCopyNames`.
 */
export function conflictCopyName(path: string, loser: { readonly author: Fingerprint; readonly wallTimeMs: number }, tag?: string): string {
  const { dir, stem, ext } = splitBase(path);
  const d = new Date(loser.wallTimeMs);
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${dir}${stem}${COPY_TAG}${stamp}-${loser.author.slice(0, 7)}${tag === undefined ? '' : `-${tag}`}${ext}`;
}

/**
 * Names of the conflict copies of one path's losers, in the order given. Each loser gets
 * `conflictCopyName`, except losers that would share one (an author who edited twice in one
 * second, both edits losing): each of those gets the shortest prefix of its entry hash, at
 * least 6 digits, that no other loser of that name shares. Depends only on the set of
 * losers, so every node names every copy alike whatever it saw first.
 */
export function conflictCopyNames(path: string, losers: readonly CopyNameSource[]): string[] {
  const plain = losers.map((l) => conflictCopyName(path, l));
  const byName = new Map<string, number[]>();
  plain.forEach((n, i) => {
    const at = byName.get(n);
    if (at === undefined) byName.set(n, [i]);
    else at.push(i);
  });
  const out = [...plain];
  for (const at of byName.values()) {
    if (at.length < 2) continue;
    const hashes = at.map((i) => losers[i].hash.toLowerCase());
    let digits = COPY_HASH_DIGITS;
    while (digits < 64 && new Set(hashes.map((h) => h.slice(0, digits))).size < new Set(hashes).size) digits++;
    at.forEach((i, k) => (out[i] = conflictCopyName(path, losers[i], hashes[k].slice(0, digits))));
  }
  return out;
}

/** True when `name` has the shape of a conflict copy of `path` (any author, time or hash). */
export function isConflictCopyOf(path: string, name: string): boolean {
  const { dir, stem, ext } = splitBase(path);
  const head = `${dir}${stem}${COPY_TAG}`;
  if (name.length <= head.length + ext.length || !name.startsWith(head) || !name.endsWith(ext)) return false;
  return COPY_STAMP.test(name.slice(head.length, name.length - ext.length));
}

interface Slot {
  /** A short array, not a Map: a path has one head, rarely a few, and there are many paths. */
  heads: Touch[];
  /** Every hash that an entry touching this path names as a parent (null while none does). */
  superseded: Set<Hash> | null;
  readonly node: TreeNode;
}

interface TreeNode {
  readonly name: string;
  readonly parent: TreeNode | null;
  /** Null for a leaf: most nodes are files, and a Map each would dominate memory. */
  children: Map<string, TreeNode> | null;
  slot: Slot | null;
  /** Cached Merkle hash (hex; '' when nothing live is here or below); null when something below changed. */
  hash: string | null;
}

const NODE_TAG = Buffer.from('KINFOLDER-STATE-NODE-V1\0', 'ascii');
const writer = new Writer(4096);

/** The resolved state of one folder, built by applying entries in any order. */
export class FolderState {
  private readonly slots = new Map<string, Slot>();
  private readonly known = new Set<Hash>();
  private readonly root: TreeNode = { name: '', parent: null, children: null, slot: null, hash: null };

  get size(): number {
    return this.known.size;
  }

  has(hash: Hash): boolean {
    return this.known.has(hash);
  }

  /** Applies one entry; applying it again changes nothing. */
  apply(he: HashedEntry): void {
    if (this.known.has(he.hash)) return;
    this.known.add(he.hash);
    for (const { path, live } of touchesOf(he.entry)) {
      let slot = this.slots.get(path);
      if (!slot) {
        const node = this.node(path);
        slot = { heads: [], superseded: null, node };
        node.slot = slot;
        this.slots.set(path, slot);
      }
      const parents = he.entry.parents;
      if (parents.length > 0) {
        const sup = (slot.superseded ??= new Set());
        for (const p of parents) sup.add(p);
        if (slot.heads.length > 0) slot.heads = slot.heads.filter((t) => !sup.has(t.hash));
      }
      if (slot.superseded === null || !slot.superseded.has(he.hash))
        slot.heads.push({ hash: he.hash, author: he.entry.author, lamport: he.entry.lamport, wallTimeMs: he.entry.wallTimeMs, live });
      // Up to the root every time: a node created just now has no cache, its ancestors may.
      for (let n: TreeNode | null = slot.node; n !== null; n = n.parent) n.hash = null;
    }
  }

  /** Heads of a path, best first (empty if nothing touched it). */
  heads(path: string): Touch[] {
    const slot = this.slots.get(path);
    return slot ? [...slot.heads].sort(compareHeads) : [];
  }

  resolve(path: string): PathResolution | undefined {
    const heads = this.heads(path);
    if (heads.length === 0) return undefined;
    return { path, heads, winner: heads[0], losers: heads.slice(1).filter((t) => t.live) };
  }

  /** Every path with more than one head, sorted by path. */
  conflicts(): PathResolution[] {
    const out: PathResolution[] = [];
    for (const [path, slot] of this.slots) if (slot.heads.length > 1) out.push(this.resolve(path) as PathResolution);
    return out.sort((a, b) => compareUtf8(a.path, b.path));
  }

  /** Paths that exist in the resolved tree (a live winner), sorted. */
  livePaths(): string[] {
    const out: string[] = [];
    for (const [path, slot] of this.slots) {
      for (const t of slot.heads)
        if (t.live) {
          out.push(path);
          break;
        }
    }
    return out.sort(compareUtf8);
  }

  /** Every path any entry touched, with its heads (unsorted): what a store would keep. */
  *pathHeads(): IterableIterator<{ path: string; heads: readonly Touch[] }> {
    for (const [path, slot] of this.slots) yield { path, heads: slot.heads };
  }

  /** Merkle hash of the resolved tree; recomputes only what changed since the last call. */
  stateHash(): Hash {
    return this.hashNode(this.root);
  }

  private node(path: string): TreeNode {
    let n = this.root;
    for (const seg of path.split('/')) {
      let c = n.children?.get(seg);
      if (!c) {
        c = { name: seg, parent: n, children: null, slot: null, hash: null };
        (n.children ??= new Map()).set(seg, c);
      }
      n = c;
    }
    return n;
  }

  /** Empty (nothing live here or below) hashes to an empty buffer, and parents skip it. */
  private hashNode(n: TreeNode): string {
    if (n.hash !== null) return n.hash;
    const heads = n.slot ? n.slot.heads : null;
    // One head (the common case) needs no sorting.
    const own = heads === null || heads.length <= 1 ? (heads ?? []) : [...heads].sort(compareHeads);
    const kids: [string, string][] = [];
    if (n.children !== null) {
      for (const name of [...n.children.keys()].sort(compareUtf8)) {
        const h = this.hashNode(n.children.get(name) as TreeNode);
        if (h.length > 0) kids.push([name, h]);
      }
    }
    n.hash = nodeHash(own, kids, n === this.root);
    return n.hash;
  }
}

/**
 * A tree node's Merkle hash from its heads (best first) and its children's non-empty hashes
 * (sorted by name in UTF-8 order); '' when nothing live is here or below, except at the root.
 */
export function nodeHash(own: readonly Touch[], kids: readonly (readonly [string, string])[], isRoot: boolean): string {
  const winner = own.length > 0 && own[0].live ? own[0] : null;
  if (!winner && kids.length === 0 && !isRoot) return '';
  const w = writer.reset().raw(NODE_TAG);
  if (winner) {
    w.u8(1).hash(winner.hash, 'winner');
    if (own.length === 1) w.u8(0);
    else {
      const losers = own.slice(1).filter((t) => t.live).map((t) => t.hash).sort();
      w.varint(losers.length, 'losers');
      for (const l of losers) w.hash(l, 'loser');
    }
  } else w.u8(0);
  w.varint(kids.length, 'children');
  for (const [name, h] of kids) w.string(name, Infinity, 'name').hash(h, 'child');
  // Hex, not a Buffer: a string digest costs a third of a Buffer one here.
  return oneShotHash('sha256', w.view(), 'hex');
}
