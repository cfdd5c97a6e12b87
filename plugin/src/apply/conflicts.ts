/**
 * Conflict copies: every losing live head of a path (files and links; a directory has nothing
 * to copy, its children are paths of their own) is written beside the winner under
 * `conflictCopyNames(path, losers)` through the same verified, atomic path as any file, and
 * recorded in the local index (so the scanner does not announce it as a new file: every
 * member derives the same copies from the same entries). After an apply of a path, the copies
 * on disk are exactly those of its current losers: any other copy apply wrote there (its
 * version superseded, by a winner, a later loser or a deletion; or renamed because another
 * loser came to share its name) is moved to versions, unless the user edited it here.
 */
import { conflictCopyName, conflictCopyNames, isConflictCopyOf, type Entry, type FileMeta } from '../log';
import { applyPut, matchesRecord, type FileApplyContext, type PathOutcome } from './apply-file';
import { ioError } from './errors';
import type { EntryLookup, ResolvedPath, ResolvedVersion } from './resolved';
import { fsyncDir, lstatOrUndefined, safePath } from './safe-path';
import * as path from 'node:path';

export interface ConflictCopy {
  /** Where the copy goes (beside `of`). */
  readonly path: string;
  /** The path in conflict. */
  readonly of: string;
  readonly loser: ResolvedVersion;
  readonly meta: FileMeta;
}

/** The copies that should exist for a resolved path: one per losing file or link (pure). */
export function conflictCopiesOf(res: ResolvedPath): ConflictCopy[] {
  const copied = res.losers.filter((l): l is ResolvedVersion & { meta: FileMeta } => l.meta !== undefined && l.meta.type !== 'dir');
  if (copied.length === 0) return [];
  const names = conflictCopyNames(res.path, copied);
  return copied.map((loser, i) => ({ path: names[i], of: res.path, loser, meta: loser.meta }));
}

/** Writes the missing copies of one path; copies already on disk with the right content are kept as they are. */
export async function writeConflictCopies(ctx: FileApplyContext, res: ResolvedPath): Promise<{ copy: ConflictCopy; outcome: PathOutcome }[]> {
  const out: { copy: ConflictCopy; outcome: PathOutcome }[] = [];
  for (const copy of conflictCopiesOf(res)) out.push({ copy, outcome: await applyPut(ctx, copy.path, copy.meta, undefined, copy.loser.author) });
  return out;
}

/** What decides whether a copy-shaped name beside a path is apply's to remove. */
export interface StaleCopyChecks {
  /** The names in a folder-relative directory ('' for the root), or just those that look like copies; cached by the caller across paths. */
  readonly list: (dirRel: string) => Promise<readonly string[]>;
  /** True for a path of the log itself ("keep both" made the copy a file of its own, or a user named a file so). */
  readonly isLogPath: (rel: string) => Promise<boolean>;
  /** True for a name something else owns here (a copy of a refused local change). */
  readonly isOwned?: (rel: string) => boolean;
}

/**
 * Copies beside `res.path` that apply wrote (a local-index row says so) and that none of its
 * current losers names: superseded versions, or names changed because losers came to share one.
 */
export async function staleCopies(ctx: Pick<FileApplyContext, 'folder' | 'local'>, res: ResolvedPath, checks: StaleCopyChecks): Promise<string[]> {
  const slash = res.path.lastIndexOf('/');
  const dir = res.path.slice(0, slash + 1);
  const current = new Set(conflictCopiesOf(res).map((c) => c.path));
  const out: string[] = [];
  for (const name of await checks.list(res.path.slice(0, Math.max(slash, 0)))) {
    const rel = dir + name;
    if (current.has(rel) || !isConflictCopyOf(res.path, rel) || checks.isOwned?.(rel) === true) continue;
    if ((await ctx.local.localFile(ctx.folder, rel)) === undefined || (await checks.isLogPath(rel))) continue;
    out.push(rel);
  }
  return out.sort();
}

/**
 * Moves these copies into versions. A copy edited here since it was written is left in place
 * (returned in `kept`): that edit is the user's, not the conflict's.
 */
export async function removeCopies(ctx: FileApplyContext, rels: readonly string[]): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const rel of rels) {
    const abs = await safePath(ctx.root, rel);
    const st = await lstatOrUndefined(abs);
    if (st === undefined) continue;
    if (!matchesRecord(st, await ctx.local.localFile(ctx.folder, rel))) {
      kept.push(rel);
      continue;
    }
    try {
      await ctx.versions.keep(rel, 'move', ctx.signal);
      await fsyncDir(path.dirname(abs));
    } catch (e) {
      throw ioError(`cannot remove conflict copy ${rel}`, e);
    }
    await ctx.local.deleteLocalFiles(ctx.folder, [rel]);
    await ctx.blockIndex?.removeBlockLocations(ctx.folder, rel);
    removed.push(rel);
  }
  return { removed, kept };
}

/**
 * The copies a resolving entry makes stale: those of the heads it names as parents, by their
 * plain names (a copy named apart by its hash is found by `staleCopies`, not here).
 * `entryOf` looks a parent up (undefined: not known here, nothing to remove for it).
 */
export async function resolvedCopies(of: string, resolution: Entry, entryOf: EntryLookup): Promise<string[]> {
  const out: string[] = [];
  for (const p of resolution.parents) {
    const e = await entryOf(p);
    if (e === undefined || e.body.op === 'delete') continue;
    out.push(conflictCopyName(of, e));
  }
  return out;
}

/** `removeCopies` of `resolvedCopies`. */
export async function removeResolvedCopies(ctx: FileApplyContext, of: string, resolution: Entry, entryOf: EntryLookup): Promise<{ removed: string[]; kept: string[] }> {
  return removeCopies(ctx, await resolvedCopies(of, resolution, entryOf));
}
