/**
 * Change detection: what the local index remembered of some paths, against what the disk
 * holds now, as local changes (put, delete, move), and those as the log's `NewChange`s.
 * Pure: no fs, no clock.
 *
 * What counts as a change for the log (what every member must see):
 * - files: content, size, mode (the executable bit) and mtime. An mtime-only change (touch)
 *   is announced: mtime is part of the entry, members' tools (make, backups) read it, and a
 *   member who kept the old mtime would otherwise never converge with one who got the new.
 * - directories: existence and mode. Their mtime moves with every child added or removed,
 *   so announcing it would turn each file change into two entries.
 * - symlinks: their target.
 * A stat difference that changes none of these (a new inode after an editor's save-by-rename
 * of identical bytes, a directory's mtime) only refreshes the index row.
 *
 * Moves: within one set of observations, a path that is gone and a path that appeared with
 * the same content become one `move`, wherever they are in the folder. Same content means
 * same type, content hash and size for files and links, and the same inode for directories
 * (a renamed directory keeps its inode; directories have no content to compare). Empty files
 * all share one hash, so they pair only by inode. A target that replaced a file already there
 * (rename-over) pairs only by inode.
 */
import { pathProblem, type FileMeta, type Fingerprint, type FolderId, type NewChange, type ParentRef, type PathProblem } from '../log';
import { localKey, POSIX_TRAITS, type FsTraits } from './local-names';
import { EMPTY_SHA256, type ScannedFile, type ScannedType } from './types';

/** What the local index remembers of a path (the store's row without its folder). */
export interface KnownFile {
  readonly path: string;
  readonly type: ScannedType;
  readonly size: number;
  readonly mtimeMs: number;
  readonly inode: number;
  readonly mode: number;
  /** Null: recorded but never hashed, so never announced (apply leaves such rows for the scanner). */
  readonly contentHash: string | null;
}

/** What is at a path now: a scanned file, or nothing. */
export type Observation = ScannedFile | 'gone';

export type LocalChange =
  | { readonly kind: 'put'; readonly path: string; readonly file: ScannedFile; readonly before?: KnownFile }
  | { readonly kind: 'delete'; readonly path: string; readonly before: KnownFile }
  /** `before`: the record at `from`; `replaced`: the record at `to`, when the move landed on a file. */
  | { readonly kind: 'move'; readonly from: string; readonly to: string; readonly file: ScannedFile; readonly before: KnownFile; readonly replaced?: KnownFile };

/** A path on disk that the log cannot name (see `pathProblem`): reported, never announced. */
export interface UnannounceablePath {
  readonly path: string;
  readonly problem: PathProblem;
}

export interface ChangeSet {
  /** Moves and puts by target path (parents first), then deletes deepest first. */
  readonly changes: LocalChange[];
  /** Rows to refresh without an entry: the stat moved, nothing the log carries did. */
  readonly refreshed: ScannedFile[];
  readonly unannounceable: UnannounceablePath[];
}

export interface DetectOptions {
  /** The local filesystem's name rules: a case-only rename is preferred as a move pair. */
  readonly traits?: FsTraits;
}

/**
 * Compares `observed` (every path looked at; 'gone' for those not there) with `known` (the
 * index rows; paths missing from `observed` are not looked at, so they never count as gone).
 */
export function detectChanges(
  known: ReadonlyMap<string, KnownFile> | ((path: string) => KnownFile | undefined),
  observed: ReadonlyMap<string, Observation>,
  options: DetectOptions = {},
): ChangeSet {
  const traits = options.traits ?? POSIX_TRAITS;
  const knownOf = typeof known === 'function' ? known : (p: string): KnownFile | undefined => known.get(p);
  const gone: KnownFile[] = [];
  const appeared: Array<{ file: ScannedFile; before?: KnownFile }> = [];
  const refreshed: ScannedFile[] = [];
  const unannounceable: UnannounceablePath[] = [];

  for (const [path, obs] of observed) {
    const before = knownOf(path);
    if (obs === 'gone') {
      if (before) gone.push(before);
      continue;
    }
    if (before && statUnchanged(before, obs)) continue;
    if (before && !announcedDiffers(before, obs)) {
      refreshed.push(obs);
      continue;
    }
    const problem = pathProblem(obs.path);
    if (problem !== null) {
      unannounceable.push({ path: obs.path, problem });
      continue;
    }
    appeared.push({ file: obs, before });
  }

  const moves = pairMoves(gone, appeared, traits);
  const changes: LocalChange[] = [];
  for (const a of appeared) {
    const m = moves.byTarget.get(a.file.path);
    // Literals, not `...(a.before ? { before } : {})`: V8 gives nearly every spread copy a hidden
    // class of its own (~250 bytes more each), and a first scan holds one change per file.
    if (m) changes.push(a.before ? { kind: 'move', from: m.path, to: a.file.path, file: a.file, before: m, replaced: a.before } : { kind: 'move', from: m.path, to: a.file.path, file: a.file, before: m });
    else changes.push(a.before ? { kind: 'put', path: a.file.path, file: a.file, before: a.before } : { kind: 'put', path: a.file.path, file: a.file });
  }
  changes.sort((x, y) => cmp(targetOf(x), targetOf(y)));
  const deletes = gone.filter((g) => !moves.sources.has(g.path)).sort((x, y) => cmp(y.path, x.path));
  for (const d of deletes) changes.push({ kind: 'delete', path: d.path, before: d });
  return { changes, refreshed, unannounceable };
}

/** Size, mtime, inode and mode as recorded (and a file's hash known): nothing to look at. */
export function statUnchanged(k: KnownFile, f: Pick<ScannedFile, 'type' | 'size' | 'mtimeMs' | 'inode' | 'mode'>): boolean {
  if (k.type !== f.type || k.inode !== f.inode || k.mode !== f.mode) return false;
  if (k.type === 'dir') return true;
  if (k.type === 'file' && k.contentHash === null) return false;
  return k.size === f.size && k.mtimeMs === f.mtimeMs;
}

/** Whether the disk differs from the record in anything an entry carries. */
function announcedDiffers(k: KnownFile, f: ScannedFile): boolean {
  if (k.type !== f.type) return true;
  switch (f.type) {
    case 'file':
      return k.contentHash !== f.contentHash || k.size !== f.size || k.mode !== f.mode || k.mtimeMs !== f.mtimeMs;
    case 'dir':
      return k.mode !== f.mode;
    case 'symlink':
      return k.contentHash !== f.contentHash;
  }
}

const targetOf = (c: LocalChange): string => (c.kind === 'move' ? c.to : c.path);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * Pairs gone paths with appeared ones. Greedy in target path order; among candidates the
 * best is the same inode (a rename keeps it), then the same local spelling (a case-only
 * rename), then the same base name (a move between directories), then the lowest path.
 */
function pairMoves(
  gone: readonly KnownFile[],
  appeared: ReadonlyArray<{ file: ScannedFile; before?: KnownFile }>,
  traits: FsTraits,
): { byTarget: Map<string, KnownFile>; sources: Set<string> } {
  const byTarget = new Map<string, KnownFile>();
  const sources = new Set<string>();
  if (gone.length === 0) return { byTarget, sources };
  const buckets = new Map<string, KnownFile[]>();
  for (const g of gone) {
    if (g.type !== 'dir' && g.contentHash === null) continue;
    const key = pairKey(g.type, g.type === 'dir' ? null : g.contentHash, g.size, g.inode);
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = []));
    b.push(g);
  }
  const targets = [...appeared].sort((x, y) => cmp(x.file.path, y.file.path));
  for (const { file, before } of targets) {
    // A directory that was already there is not a move target; a file that was, only by inode.
    if (before && (file.type === 'dir' || before.type === 'dir')) continue;
    const bucket = buckets.get(pairKey(file.type, file.type === 'dir' ? null : file.contentHash, file.size, file.inode));
    if (!bucket) continue;
    const inodeOnly = file.type === 'dir' || (file.type === 'file' && file.size === 0) || before !== undefined;
    let best: KnownFile | undefined;
    let bestScore = -1;
    for (const g of bucket) {
      if (sources.has(g.path)) continue;
      const sameInode = g.inode === file.inode;
      if (inodeOnly && !sameInode) continue;
      const score = (sameInode ? 4 : 0) + (localKey(g.path, traits) === localKey(file.path, traits) || g.path.toLowerCase() === file.path.toLowerCase() ? 2 : 0) + (baseName(g.path) === baseName(file.path) ? 1 : 0);
      if (score > bestScore || (score === bestScore && best !== undefined && g.path < best.path)) {
        best = g;
        bestScore = score;
      }
    }
    if (best) {
      byTarget.set(file.path, best);
      sources.add(best.path);
    }
  }
  return { byTarget, sources };
}

function pairKey(type: ScannedType, contentHash: string | null, size: number, inode: number): string {
  // Directories have no content: their inode is all there is to match.
  return type === 'dir' ? `dir:${inode}` : `${type}:${contentHash}:${size}`;
}

/** The entry's view of a scanned file (the log's `FileMeta` conventions). */
export function fileMeta(f: ScannedFile): FileMeta {
  // The log's mtime is unsigned; a file dated before 1970 is announced at the epoch.
  const mtimeMs = Math.max(0, Math.floor(f.mtimeMs));
  const mode = f.mode & 0o7777;
  switch (f.type) {
    case 'file':
      return { type: 'file', size: f.size, mode, mtimeMs, contentHash: f.contentHash, blocks: f.blocks.map((b) => ({ hash: b.hash, size: b.size })) };
    case 'dir':
      return { type: 'dir', size: 0, mode, mtimeMs, contentHash: EMPTY_SHA256, blocks: [] };
    case 'symlink':
      return { type: 'symlink', size: 0, mode, mtimeMs, contentHash: f.contentHash, blocks: [], linkTarget: f.linkTarget ?? '' };
  }
}

export interface ChangeContext {
  readonly folder: FolderId;
  readonly author: Fingerprint;
  readonly wallTimeMs: number;
}

/**
 * The log's changes for local changes. `parents` are the current heads of every path the
 * change touches (both ends of a move): the versions this change supersedes. A delete of a
 * path the log has never held supersedes nothing and is dropped; a move from such a path is
 * a put at its target.
 */
export function toNewChanges(changes: readonly LocalChange[], ctx: ChangeContext, headsOf: (path: string) => readonly ParentRef[]): NewChange[] {
  const out: NewChange[] = [];
  const make = (body: NewChange['body'], parents: readonly ParentRef[]): NewChange => ({
    folder: ctx.folder,
    author: ctx.author,
    wallTimeMs: ctx.wallTimeMs,
    body,
    parents: parents.map((p) => ({ hash: p.hash, lamport: p.lamport })),
  });
  for (const c of changes) {
    if (c.kind === 'put') {
      out.push(make({ op: 'put', path: c.path, meta: fileMeta(c.file) }, headsOf(c.path)));
    } else if (c.kind === 'delete') {
      const heads = headsOf(c.path);
      if (heads.length > 0) out.push(make({ op: 'delete', path: c.path }, heads));
    } else {
      const from = headsOf(c.from);
      const to = headsOf(c.to);
      if (from.length === 0) out.push(make({ op: 'put', path: c.to, meta: fileMeta(c.file) }, to));
      else out.push(make({ op: 'move', from: c.from, to: c.to, meta: fileMeta(c.file) }, unionByHash(from, to)));
    }
  }
  return out;
}

/** Every path a local change touches. */
export function pathsOfChange(c: LocalChange): string[] {
  return c.kind === 'move' ? [c.from, c.to] : [c.path];
}

function unionByHash(a: readonly ParentRef[], b: readonly ParentRef[]): ParentRef[] {
  const seen = new Set(a.map((p) => p.hash));
  return [...a, ...b.filter((p) => !seen.has(p.hash) && (seen.add(p.hash), true))];
}
