/**
 * Applies a folder's resolved state to its disk: every path whose winner differs from what
 * the local index says is there, in this order:
 * 1. directories, parents first;
 * 2. moves, one by one, a chain's last link first, so each rename finds its source as scanned;
 * 3. other files and links, a few at once (each its own temp file and rename);
 * 4. conflict copies;
 * 5. deletions, children first, so a directory is empty when its turn comes;
 * 6. files that replace a directory, which the deletions have emptied by then.
 * One path's failure is reported (`refused`) and the run goes on; an abort stops the run
 * (what was committed stays committed, temp files are removed).
 *
 * Small files by the thousand: in phases 1 and 3 the renames are made durable and recorded in
 * groups (Committer: one fsync per directory touched, one commit per few hundred rows), temp
 * files of a large run share syncfs calls instead of an fsync each (GroupSync), and parent
 * directories are checked once per run. The rules stay: a file is durable before it is renamed
 * into place, and a row is written only once the rename is durable.
 *
 * Echo suppression: every path apply writes or adopts gets an exact local index record (the
 * lstat after the rename), so the scanner's "record matches disk" test skips it.
 */
import { compareUtf8, FolderState, type FileMeta } from '../log';
import { LocalNames, POSIX_TRAITS, type FsTraits } from '../scan';
import type { LocalFileRecord, LocalIndexStore } from '../store';
import { APPLIED_MODE_MASK, applyDelete, applyPut, SMALL_FILE_BYTES, type ApplyBlockIndex, type ApplyLocalIndex, type FileApplyContext, type LocalChangedConflict, type PathOutcome } from './apply-file';
import type { BlockSource } from './blocks';
import { conflictCopiesOf } from './conflicts';
import { ApplyError, isApplyError, throwIfAborted } from './errors';
import { resolveWith, type EntryLookup, type ResolvedPath } from './resolved';
import { IndexRecorder } from './recorder';
import { Committer } from './committer';
import type { GroupSync } from './group-sync';
import type { EmptyFiles } from './empty-files';
import { mapLimit } from '../scan';
import { lexicalProblem } from './safe-path';
import { cleanTemp } from './temp';
import { Versions, type Retention } from './versions';

export interface ApplyStateOptions {
  readonly root: string;
  /** Folder id (the key of the local index rows). */
  readonly folder: string;
  /** The folder's state (with `entryOf`), or the resolved paths to look at. */
  readonly state: FolderState | readonly ResolvedPath[];
  /** Finds the entries of the state's heads (see `entryLookup` for the store's). */
  readonly entryOf?: EntryLookup;
  readonly local: ApplyLocalIndex & Pick<LocalIndexStore, 'localFiles'> & Partial<Pick<LocalIndexStore, 'localFilesAt'>>;
  readonly blockIndex?: ApplyBlockIndex;
  readonly blocks: BlockSource;
  /** Wall clock (ms) for version stamps and retention. */
  readonly clock: () => number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ApplyProgress) => void;
  /** Kept-versions rule, applied at the end of the run; none: keep everything. */
  readonly retention?: Retention;
  /** What probeFilesystem found; names this filesystem cannot hold are refused. Default: POSIX. */
  readonly fsTraits?: FsTraits;
  /**
   * Look only at these paths (those the new entries touch, say) instead of every live path
   * and every indexed one: a large folder then costs what changed, not its size.
   */
  readonly paths?: Iterable<string>;
  /** Files written at once (default DEFAULT_CONCURRENCY); directories, moves and deletions run one by one. */
  readonly concurrency?: number;
  /** Remove apply's leftover temp files first (default true; one applier per folder at a time). */
  readonly cleanTemp?: boolean;
  /**
   * Filled with the paths being written (renamed or removed, not yet recorded) and emptied as
   * they are recorded: the caller's scanner skips them, so apply's own files are never taken
   * for local edits in that gap.
   */
  readonly writing?: Set<string>;
  /**
   * New files and directories made durable by shared syncfs calls (GroupSync.probe) instead of
   * an fsync each, in runs of at least GROUP_SYNC_FROM of them; the other phases keep their fsyncs.
   */
  readonly groupSync?: GroupSync;
  /** Told of each directory apply makes, before anything is written into it (see FileApplyContext). */
  readonly onDirMade?: (relPath: string) => void;
  /** New empty files made on a worker thread (see EmptyFiles and FileApplyContext). */
  readonly emptyFiles?: EmptyFiles;
}

export interface ApplyProgress {
  readonly path: string;
  readonly done: number;
  readonly total: number;
  readonly outcome: PathOutcome['kind'] | 'refused';
}

export interface Refusal {
  readonly path: string;
  readonly code: ApplyError['code'];
  readonly message: string;
}

export interface ApplyReport {
  /** Paths written, adopted or deleted (conflict copies included). */
  readonly applied: PathOutcome[];
  /** Local edits left alone; the caller records them, then applies again. */
  readonly conflicts: LocalChangedConflict[];
  readonly refused: Refusal[];
  /** Directories to delete that still held unannounced files. */
  readonly keptNotEmpty: string[];
  /** Versions removed by the retention rule. */
  readonly pruned: string[];
  /** Leftover temp files removed at the start. */
  readonly tempCleaned: number;
}

interface Job {
  readonly path: string;
  readonly moveFrom?: string;
  /** A put without a move: the bulk phases run it with their own context. */
  readonly meta?: FileMeta;
  /** The author of the put's entry (see BlockSource.read). */
  readonly from?: string;
  readonly run: () => Promise<PathOutcome>;
}

/** Files written at once: enough to overlap fsync latency and the store, few enough for a shared machine. */
export const DEFAULT_CONCURRENCY = 16;
/** New directories and files in a run from which they share syncs (GroupSync) instead of an fsync each. */
export const GROUP_SYNC_FROM = 32;
/** Files written at once when they share syncs: most of them wait for the next sync at any time. */
export const GROUPED_CONCURRENCY = 64;
/**
 * Small files (at most SMALL_FILE_BYTES) written at once when they share syncs: each waits
 * mostly for a block from a peer and then for the shared sync, and holds one small block at
 * most, so many at once cost little memory; 64 at once capped 4 KiB files at ~160 files/s
 * behind a round trip of a few hundred ms.
 */
export const SMALL_GROUPED_CONCURRENCY = 256;
/** Without a batched lookup, runs with at most this many paths read their local rows one by one; larger ones read the whole index once. */
const POINT_READS_UP_TO = 512;

/**
 * Moves whose target is another move's source go after that move (a→b waits for b→c), so a
 * chain renames instead of rebuilding; a cycle (a swap) falls back to path order, where the
 * second rename finds its source changed and builds from blocks.
 */
function orderMoves(moves: readonly Job[]): Job[] {
  const pending = [...moves].sort((a, b) => compareUtf8(a.path, b.path));
  const out: Job[] = [];
  while (pending.length > 0) {
    const sources = new Set(pending.map((m) => m.moveFrom));
    const i = pending.findIndex((m) => !sources.has(m.path));
    out.push(...pending.splice(i < 0 ? 0 : i, 1));
  }
  return out;
}

/** Runs `f` over `jobs` with at most `limit` at once; the first thrown error is rethrown once all have settled. */
async function inParallel(jobs: readonly Job[], limit: number, f: (job: Job) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < jobs.length) {
      try {
        await f(jobs[next++]);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  if (failure !== undefined) throw failure.e;
}

/** True when the local record already shows `meta` (type, content and, for files, mode). */
export function recordShows(rec: LocalFileRecord | undefined, meta: FileMeta): boolean {
  if (rec === undefined || rec.type !== meta.type) return false;
  if (meta.type === 'dir') return true;
  if (rec.contentHash !== meta.contentHash) return false;
  return meta.type !== 'file' || (rec.mode & APPLIED_MODE_MASK) === (meta.mode & APPLIED_MODE_MASK);
}

export async function applyState(o: ApplyStateOptions): Promise<ApplyReport> {
  throwIfAborted(o.signal);
  const tempCleaned = o.cleanTemp === false ? 0 : await cleanTemp(o.root);
  const versions = new Versions(o.root, { clock: o.clock, retention: o.retention });
  const recorder = new IndexRecorder(o.local, o.blockIndex);
  const ctx: FileApplyContext = { root: o.root, folder: o.folder, local: o.local, blockIndex: o.blockIndex, blocks: o.blocks, versions, recorder, signal: o.signal, writing: o.writing, onDirMade: o.onDirMade, emptyFiles: o.emptyFiles };

  const traits = o.fsTraits ?? POSIX_TRAITS;
  const refused: Refusal[] = [];
  const local = new Map<string, LocalFileRecord | undefined>();
  let resolutions: ResolvedPath[];
  // The paths of a run in a large folder: their own rows, not the whole index (name collisions
  // need every name only where case or normalization does not tell names apart). Read whole,
  // the index made every run of a catch-up cost the folder's size: quadratic over the catch-up.
  const { localFilesAt } = o.local;
  const exactNames = !traits.caseInsensitive && !traits.normalizationInsensitive;
  if (!(o.state instanceof FolderState) && exactNames && (localFilesAt !== undefined || o.state.length <= POINT_READS_UP_TO)) {
    resolutions = [...o.state];
    const wanted = [...new Set(resolutions.flatMap((r) => [r.path, ...conflictCopiesOf(r).map((c) => c.path)]))];
    if (localFilesAt !== undefined) {
      const rows = await localFilesAt.call(o.local, o.folder, wanted);
      for (const p of wanted) local.set(p, rows.get(p));
    } else {
      const rows = await mapLimit(wanted, 64, (p) => o.local.localFile(o.folder, p));
      wanted.forEach((p, i) => local.set(p, rows[i]));
    }
  } else {
    for await (const r of o.local.localFiles(o.folder, { signal: o.signal })) local.set(r.path, r);
    resolutions = await resolutionsOf(o, local.keys(), refused);
    for (const r of resolutions) if (!local.has(r.path)) local.set(r.path, undefined);
  }

  const names = new LocalNames(traits);
  for (const [p, r] of local) if (r !== undefined) names.add(p);
  /** True when the path may be written here; otherwise it is reported and skipped. */
  const admit = (p: string): boolean => {
    const lexical = lexicalProblem(p);
    if (lexical) {
      refused.push({ path: p, code: 'APPLY_UNSAFE_PATH', message: `refusing ${JSON.stringify(p)}: ${lexical}` });
      return false;
    }
    const problem = names.problem(p);
    if (problem) {
      refused.push({ path: p, code: 'APPLY_LOCAL_NAME', message: `${p}: ${problem.code}: ${problem.reason}` });
      return false;
    }
    names.add(p);
    return true;
  };

  const dirs: Job[] = [];
  const moves: Job[] = [];
  const files: Job[] = [];
  const copies: Job[] = [];
  const deletes: Job[] = [];
  const late: Job[] = [];
  for (const res of resolutions) {
    const meta = res.winner.meta;
    const rec = local.get(res.path);
    if (meta === undefined) {
      if (rec !== undefined) deletes.push({ path: res.path, run: () => applyDelete(ctx, res.path) });
    } else if (!recordShows(rec, meta) && admit(res.path)) {
      const moveFrom = res.winner.moveFrom;
      const from = res.winner.author;
      const job = { path: res.path, moveFrom, meta: moveFrom === undefined ? meta : undefined, from, run: () => applyPut(ctx, res.path, meta, moveFrom, from) };
      // A file or link replacing a directory waits until the deletions have emptied it.
      if (meta.type !== 'dir' && rec?.type === 'dir') late.push(job);
      else if (meta.type === 'dir') dirs.push(job);
      else (moveFrom !== undefined ? moves : files).push(job);
    }
    for (const copy of conflictCopiesOf(res)) {
      if (recordShows(local.get(copy.path), copy.meta) || !admit(copy.path)) continue;
      copies.push({ path: copy.path, run: () => applyPut(ctx, copy.path, copy.meta, undefined, copy.loser.author) });
    }
  }
  const byPath = (a: Job, b: Job): number => compareUtf8(a.path, b.path);
  dirs.sort(byPath);
  files.sort(byPath);
  copies.sort(byPath);
  deletes.sort((a, b) => byPath(b, a));
  late.sort(byPath);
  const total = dirs.length + moves.length + files.length + copies.length + deletes.length + late.length;

  const applied: PathOutcome[] = [];
  const conflicts: LocalChangedConflict[] = [];
  const keptNotEmpty: string[] = [];
  let done = 0;
  const runOne = async (job: Job): Promise<void> => {
    throwIfAborted(o.signal);
    let kind: ApplyProgress['outcome'];
    try {
      const outcome = await job.run();
      kind = outcome.kind;
      if (outcome.kind === 'conflict') conflicts.push(outcome.conflict);
      else if (outcome.kind === 'kept-not-empty') keptNotEmpty.push(outcome.path);
      else if (outcome.kind !== 'unchanged') applied.push(outcome);
    } catch (e) {
      if (!isApplyError(e) || e.code === 'APPLY_ABORTED') throw e;
      refused.push({ path: job.path, code: e.code, message: e.message });
      kind = 'refused';
    }
    o.onProgress?.({ path: job.path, done: ++done, total, outcome: kind });
  };
  const inOrder = async (jobs: readonly Job[]): Promise<void> => {
    for (const job of jobs) await runOne(job);
  };
  // New directories and files: directories fsynced once each and rows recorded in groups (see
  // Committer), parent checks remembered for the run. No job of these phases turns a
  // directory into a link, which is what the remembered checks rely on.
  // A syncfs also waits for whatever else is dirty on the filesystem (another program's big
  // write): worth it for many files, not for the one file of a small change.
  const groupSync = dirs.length + files.length >= GROUP_SYNC_FROM ? o.groupSync : undefined;
  const committer = new Committer(recorder, o.writing, undefined, groupSync);
  const bulk: FileApplyContext = { ...ctx, committer, known: local, verified: new Set(), groupSync };
  // A new literal per job, not `{ ...j, run }`: V8 gives nearly every spread copy a hidden class of its own.
  const bulkJob = (j: Job): Job => ({ path: j.path, moveFrom: j.moveFrom, meta: j.meta, from: j.from, run: () => (j.meta !== undefined ? applyPut(bulk, j.path, j.meta, undefined, j.from) : j.run()) });
  const dirJobs = dirs.map(bulkJob);
  try {
    await inOrder(dirJobs);
    await committer.flush();
    await inOrder(orderMoves(moves));
    // Files are independent of each other (each its own temp file and rename); running several
    // at once overlaps their fsyncs, block reads and store reads.
    const fileJobs = files.map(bulkJob);
    if (o.concurrency !== undefined || groupSync === undefined) await inParallel(fileJobs, o.concurrency ?? DEFAULT_CONCURRENCY, runOne);
    else {
      const small = (j: Job): boolean => j.meta !== undefined && j.meta.size <= SMALL_FILE_BYTES;
      await inParallel(fileJobs.filter(small), SMALL_GROUPED_CONCURRENCY, runOne);
      await inParallel(fileJobs.filter((j) => !small(j)), GROUPED_CONCURRENCY, runOne);
    }
  } finally {
    // Whatever was renamed gets recorded, also when the run stops early.
    await committer.flush();
  }
  await inOrder(copies);
  await inOrder(deletes);
  await inOrder(late);
  const pruned = o.retention ? await versions.prune(o.clock(), o.signal) : [];
  return { applied, conflicts, refused, keptNotEmpty, pruned, tempCleaned };
}

/** Every path the state names live, plus every path the disk has (a deletion may be due there). */
async function resolutionsOf(o: ApplyStateOptions, localPaths: Iterable<string>, refused: Refusal[]): Promise<ResolvedPath[]> {
  if (!(o.state instanceof FolderState)) return [...o.state];
  const { state, entryOf } = o;
  if (entryOf === undefined) throw new ApplyError('APPLY_ENTRY_UNKNOWN', 'applyState needs entryOf to apply a FolderState');
  const paths = new Set(o.paths ?? state.livePaths());
  if (o.paths === undefined) for (const p of localPaths) paths.add(p);
  const out: ResolvedPath[] = [];
  for (const p of paths) {
    throwIfAborted(o.signal);
    const r = state.resolve(p);
    if (r === undefined) continue;
    try {
      out.push(await resolveWith(r, entryOf));
    } catch (e) {
      if (!isApplyError(e, 'APPLY_ENTRY_UNKNOWN')) throw e;
      refused.push({ path: p, code: e.code, message: e.message });
    }
  }
  return out;
}
