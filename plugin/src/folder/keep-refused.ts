/**
 * What happens to a local change the manifest refuses (a reader's edit, a writer's edit
 * outside its grant, a revoked member's): the user's bytes move aside to a conflict-copy name
 * that stays on this node only (see LocalCopies), and the path's records are forgotten so that
 * the next apply puts the log's version back (a deleted file returns, a moved one returns to
 * where it was). A change whose content is what the log already has there (a touch, a chmod,
 * or apply's own file seen before its record landed) is no edit: the apply adopts it.
 *
 * Order, for crash safety: the copy names are saved to the list before any rename, so a copy
 * can never stand unlisted on disk (and be announced by a later rescan).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { conflictCopyName, isUnder, type Fingerprint } from '../log';
import { fsyncDir } from '../apply';
import { pathsOfChange, type LocalChange, type ScannedFile } from '../scan';
import type { BlockIndex, BlockLocation, LocalIndexStore } from '../store';
import { FolderError } from './errors';
import type { LocalCopies } from './local-copies';

/** What the log shows at a path now: a live version's type and content, or nothing. */
export type WinnerContent = { readonly type: ScannedFile['type']; readonly contentHash: string } | undefined;

export interface KeepRefusedContext {
  readonly root: string;
  readonly folder: string;
  readonly self: Fingerprint;
  readonly clock: () => number;
  readonly store: Pick<LocalIndexStore, 'deleteLocalFiles'> & Pick<BlockIndex, 'addBlockLocations'>;
  readonly copies: LocalCopies;
  readonly winnerOf: (path: string) => Promise<WinnerContent>;
}

/** One refused change and where its bytes went. */
export interface KeptChange {
  readonly kind: LocalChange['kind'];
  /** The path the change was refused at (a move's target). */
  readonly path: string;
  /** The local copy holding the user's version; undefined for a delete or an adopted change. */
  readonly copy?: string;
}

export interface KeepRefusedResult {
  readonly kept: KeptChange[];
  /** Paths whose records were forgotten: apply them to put the log's version back. */
  readonly restore: string[];
}

/** At most this many seconds are tried for a free copy name (two refusals of a path in one second). */
const MAX_NAME_TRIES = 100;

export async function keepRefused(ctx: KeepRefusedContext, changes: readonly LocalChange[]): Promise<KeepRefusedResult> {
  const now = ctx.clock();
  const abs = (rel: string): string => path.join(ctx.root, ...rel.split('/'));
  const restore = new Set<string>();
  for (const c of changes) for (const p of pathsOfChange(c)) restore.add(p);

  // Targets parents first, so a directory moved aside carries its subtree along.
  const targets = changes
    .filter((c): c is Extract<LocalChange, { kind: 'put' | 'move' }> => c.kind !== 'delete')
    .map((c) => ({ change: c, path: c.kind === 'move' ? c.to : c.path, file: c.file }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const aside: Array<{ path: string; copy: string }> = [];
  const copyOf = new Map<LocalChange, string>();
  const taken = new Set<string>();
  const locations: BlockLocation[] = [];
  for (const t of targets) {
    const under = aside.find((a) => isUnder(t.path, a.path));
    let copy: string;
    if (under !== undefined) {
      copy = under.copy + t.path.slice(under.path.length);
    } else {
      const w = await ctx.winnerOf(t.path);
      if (w !== undefined && w.type === t.file.type && (w.type === 'dir' || w.contentHash === t.file.contentHash)) continue;
      copy = await freeName(t.path, now, ctx.self, (c) => taken.has(c) || ctx.copies.has(c), abs);
      taken.add(copy);
      aside.push({ path: t.path, copy });
    }
    copyOf.set(t.change, copy);
    // The copy's bytes stay a block source (a rebuild of the log's version may share blocks).
    let offset = 0;
    if (t.file.type === 'file') for (const b of t.file.blocks) locations.push({ hash: b.hash, size: b.size, folder: ctx.folder, path: copy, offset: (offset += b.size) - b.size });
  }

  await ctx.copies.add(aside.map((a) => a.copy));
  const dirs = new Set<string>();
  for (const a of aside) {
    try {
      await fsp.rename(abs(a.path), abs(a.copy));
      dirs.add(path.dirname(abs(a.copy)));
    } catch (e) {
      // Gone meanwhile: nothing to keep; the listed name is dropped at the next load.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  for (const d of dirs) await fsyncDir(d);
  await ctx.store.deleteLocalFiles(ctx.folder, [...restore]);
  if (locations.length > 0) await ctx.store.addBlockLocations(locations);
  return {
    kept: changes.map((c) => ({ kind: c.kind, path: c.kind === 'move' ? c.to : c.path, copy: copyOf.get(c) })),
    restore: [...restore],
  };
}

/** A conflict-copy name for `p` by this node at `now` that nothing uses yet (a second later when taken). */
async function freeName(p: string, now: number, self: Fingerprint, taken: (c: string) => boolean, abs: (rel: string) => string): Promise<string> {
  for (let i = 0; i < MAX_NAME_TRIES; i++) {
    const c = conflictCopyName(p, { author: self, wallTimeMs: now + i * 1000 });
    if (taken(c)) continue;
    try {
      await fsp.lstat(abs(c));
    } catch {
      return c;
    }
  }
  // Never rename over something: that would lose it.
  throw new FolderError('FOLDER_NO_COPY_NAME', `no free conflict-copy name for ${p}`);
}
