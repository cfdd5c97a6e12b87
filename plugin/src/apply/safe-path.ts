/**
 * Folder-relative paths from entries become absolute paths under the folder root, or are
 * refused. An entry comes from a peer: a path that climbs out (`..`), starts at `/`, or
 * passes through a symlink (inside the folder or pointing out of it) would let a peer write
 * anywhere this user can, so every existing parent component is lstat'ed and none may be a
 * link. Checks and writes are not one atomic step: this guards against peers, not against a
 * local process racing us with symlinks (that process could write there itself anyway).
 */
import { lstatSync, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { pathProblem } from '../log';
import { ApplyError, errnoOf, ioError, throwIfAborted } from './errors';

export interface SafePathOptions {
  /** Allow paths under `.kinfolder/` (versions, temp files): the applier's own bookkeeping. */
  readonly meta?: boolean;
  /**
   * Directories (folder-relative) already checked to be real directories during this apply
   * run; checked ones are added. Saves an lstat per component per call, for a run that
   * creates no links over directories meanwhile (the applier passes it to the phases that don't).
   */
  readonly verified?: Set<string>;
}

/**
 * With `verified`, a directory's check is a blocking lstat: a lookup of a directory the run
 * keeps using, cached, takes microseconds, and the answer is in `verified` before the next
 * file asks. Awaited, the 256 files a run starts at once each queued the same lstat before
 * the first answer came (0.5 s of a 20k-file catch-up's main thread).
 */
const checkDir = (abs: string, verified: Set<string> | undefined): Promise<Stats | undefined> | Stats | undefined =>
  verified !== undefined ? lstatNowOrUndefined(abs) : lstatOrUndefined(abs);

const unsafe = (rel: string, reason: string): ApplyError => new ApplyError('APPLY_UNSAFE_PATH', `refusing ${JSON.stringify(rel)}: ${reason}`);

/** lstat that answers undefined for a path that is not there. */
export async function lstatOrUndefined(abs: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(abs);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw ioError(`cannot stat ${abs}`, e);
  }
}

/** lstatOrUndefined as a blocking call (a small file's steps, see apply-file's SMALL_BLOCKING_BYTES). */
export function lstatNowOrUndefined(abs: string): Stats | undefined {
  try {
    return lstatSync(abs);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw ioError(`cannot stat ${abs}`, e);
  }
}

/** The checks that need no disk: what the log calls a clean path (`..`, absolute, NUL, ...). */
export function lexicalProblem(rel: string, options: SafePathOptions = {}): string | undefined {
  if (typeof rel !== 'string') return 'not a string';
  const problem = pathProblem(rel);
  if (problem === null || (problem === 'RESERVED' && options.meta)) return undefined;
  return problem === 'RESERVED' ? 'inside the folder\'s own .kinfolder directory' : `not a clean folder path (${problem})`;
}

/**
 * Absolute path of `rel` under `root`, after checking that no existing parent directory is a
 * symlink or a non-directory. The last component may be anything (the caller decides what to
 * do with what stands there); components that do not exist yet are fine.
 */
export async function safePath(root: string, rel: string, options: SafePathOptions = {}): Promise<string> {
  const reason = lexicalProblem(rel, options);
  if (reason) throw unsafe(String(rel), reason);
  const base = resolvedRoot(root);
  const verified = options.verified;
  if (verified !== undefined && parentVerified(rel, verified)) return inside(base, rel);
  const parts = rel.split('/');
  let cur = base;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = path.join(cur, parts[i]);
    const relDir = verified !== undefined ? parts.slice(0, i + 1).join('/') : '';
    if (verified?.has(relDir)) continue;
    const checked = checkDir(cur, verified);
    // No await for a blocking answer: one would let the other files of the run ask too.
    const st = checked instanceof Promise ? await checked : checked;
    if (st === undefined) break;
    if (st.isSymbolicLink()) throw unsafe(rel, `${parts.slice(0, i + 1).join('/')} is a symlink`);
    if (!st.isDirectory()) throw unsafe(rel, `${parts.slice(0, i + 1).join('/')} is not a directory`);
    verified?.add(relDir);
  }
  return inside(base, rel);
}

/**
 * A directory is remembered only once its parents were checked (or made) in the same run: a
 * remembered parent vouches for the whole chain, and a path under it needs no walk (a small
 * file's build asked for three: its temp file, its parents, its name).
 */
function parentVerified(rel: string, verified: ReadonlySet<string>): boolean {
  const slash = rel.lastIndexOf('/');
  return slash < 0 || verified.has(rel.slice(0, slash));
}

/**
 * Folder roots as path.resolve gives them, remembered: apply asks for several paths of each
 * file (target, temp file, parents), and resolve and join were a few µs each of a receiver's
 * main thread per small file. Only absolute roots (what a relative one means depends on the cwd).
 */
const resolvedRoots = new Map<string, string>();
function resolvedRoot(root: string): string {
  let base = resolvedRoots.get(root);
  if (base === undefined) {
    base = path.resolve(root);
    if (!path.isAbsolute(root)) return base;
    if (resolvedRoots.size >= 256) resolvedRoots.clear();
    resolvedRoots.set(root, base);
  }
  return base;
}

function inside(base: string, rel: string): string {
  // A clean path (lexicalProblem: no empty, '.' or '..' segment, no leading or trailing '/')
  // joins a resolved root as it is; path.join would normalize it again.
  const abs = path.sep === '/' && base !== '/' ? `${base}/${rel}` : path.join(base, rel);
  // Belt and braces: the lexical rules already make this impossible.
  if (!abs.startsWith(base + path.sep)) throw unsafe(rel, 'resolves outside the folder');
  return abs;
}

/**
 * Creates the missing parent directories of `rel`, one component at a time (never
 * `recursive`, which would follow a symlink planted between two steps), and returns the
 * folder paths of the directories it created.
 */
export async function ensureParents(root: string, rel: string, options: SafePathOptions & { signal?: AbortSignal; mode?: number } = {}): Promise<string[]> {
  const reason = lexicalProblem(rel, options);
  if (reason) throw unsafe(String(rel), reason);
  if (options.verified !== undefined && parentVerified(rel, options.verified)) return [];
  const parts = rel.split('/');
  const created: string[] = [];
  let cur = resolvedRoot(root);
  for (let i = 0; i < parts.length - 1; i++) {
    throwIfAborted(options.signal);
    cur = path.join(cur, parts[i]);
    const relDir = parts.slice(0, i + 1).join('/');
    if (options.verified?.has(relDir)) continue;
    const checked = checkDir(cur, options.verified);
    let st = checked instanceof Promise ? await checked : checked;
    if (st === undefined) {
      try {
        await fsp.mkdir(cur, { mode: options.mode ?? 0o777 });
        created.push(relDir);
        options.verified?.add(relDir);
        continue;
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw ioError(`cannot create ${relDir}`, e);
        st = await fsp.lstat(cur); // Someone made it meanwhile: check what it is.
      }
    }
    if (st.isSymbolicLink()) throw unsafe(rel, `${relDir} is a symlink`);
    if (!st.isDirectory()) throw unsafe(rel, `${relDir} is not a directory`);
    options.verified?.add(relDir);
  }
  return created;
}

/** fsync a directory so a rename or create in it survives a power cut. */
export async function fsyncDir(abs: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(abs, 'r');
    await h.sync();
  } catch (e) {
    // Some filesystems (and Windows) cannot fsync a directory; the rename itself still happened.
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes(errnoOf(e) ?? '')) throw ioError(`cannot fsync ${abs}`, e);
  } finally {
    await h?.close().catch(() => undefined);
  }
}
