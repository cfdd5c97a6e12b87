/**
 * Conflict copies: every losing live head of a path is written beside the winner as
 * `conflictCopyName(path, loser)` through the same verified, atomic path as any file, and
 * recorded in the local index (so the scanner does not announce it as a new file: every
 * member derives the same copies from the same entries). A copy stays until an entry
 * resolves the conflict; only then, and only for the heads that entry supersedes, is the
 * copy moved to versions.
 */
import { conflictCopyName, type Entry, type FileMeta } from '../log';
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
  const out: ConflictCopy[] = [];
  for (const loser of res.losers) {
    const meta = loser.meta;
    // A directory that lost to a file has nothing to copy: its children are paths of their own.
    if (meta === undefined || meta.type === 'dir') continue;
    out.push({ path: conflictCopyName(res.path, loser), of: res.path, loser, meta });
  }
  return out;
}

/** Writes the missing copies of one path; copies already on disk with the right content are kept as they are. */
export async function writeConflictCopies(ctx: FileApplyContext, res: ResolvedPath): Promise<{ copy: ConflictCopy; outcome: PathOutcome }[]> {
  const out: { copy: ConflictCopy; outcome: PathOutcome }[] = [];
  for (const copy of conflictCopiesOf(res)) out.push({ copy, outcome: await applyPut(ctx, copy.path, copy.meta) });
  return out;
}

/**
 * The copies a resolving entry makes stale: those of the heads it names as parents.
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

/**
 * Moves the copies `resolution` makes stale into versions. A copy edited here since it was
 * written is left in place (returned in `kept`): that edit is the user's, not the conflict's.
 */
export async function removeResolvedCopies(
  ctx: FileApplyContext,
  of: string,
  resolution: Entry,
  entryOf: EntryLookup,
): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const rel of await resolvedCopies(of, resolution, entryOf)) {
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
