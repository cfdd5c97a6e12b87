/**
 * Kept versions: a replaced or deleted file goes to `.kinfolder/versions/<dir>/<stem>~<stamp><ext>`
 * (stamp `YYYYMMDD-HHMMSS` in UTC, `-N` appended when taken), the extension kept last so the
 * copy still opens with the right program, as Syncthing's staggered versioner does.
 *
 * A replaced file is kept by hard link (the target keeps its old bytes until the atomic rename
 * puts the new file there, so a crash never leaves the path empty); a deleted one is moved.
 * Retention is per path: at most `maxCount` newest, none older than `maxAgeDays` (by stamp).
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MAX_SEGMENT_BYTES, type FileMeta } from '../log';
import { hashFile, isScanError, META_DIR } from '../scan';
import { sha256 } from './blocks';
import { ApplyError, errnoOf, ioError, throwIfAborted } from './errors';
import { ensureParents, fsyncDir, lstatOrUndefined, safePath } from './safe-path';
import { newTempPath, removeQuietly } from './temp';
import { utimesSeconds } from './apply-file';

export const VERSIONS_REL = `${META_DIR}/versions`;
const DAY_MS = 86_400_000;

export interface Retention {
  /** Keep at most this many versions of each path (newest first); undefined: no limit. */
  readonly maxCount?: number;
  /** Remove versions whose stamp is older than this many days; undefined: no limit. */
  readonly maxAgeDays?: number;
}

export interface KeptVersion {
  /** The folder path the version belongs to (as asked for in `listVersions`). */
  readonly path: string;
  /** Its name relative to the versions directory (what restoreVersion and prune take and return). */
  readonly version: string;
  /** When it was kept (from its name, second precision). */
  readonly keptAtMs: number;
  readonly counter: number;
  readonly size: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** Splits a base name the way conflictCopyName does: a dot file has no extension. */
function splitExt(base: string): [string, string] {
  const dot = base.lastIndexOf('.');
  return dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
}

/** Room a version suffix needs: `~YYYYMMDD-HHMMSS-NNNNN`. */
const SUFFIX_BYTES = 22;

/**
 * Stem and extension as they appear in version names: a name near the 255-byte limit loses
 * the end of its stem (never the extension), so its versions can still be written.
 */
function fittedParts(base: string): [string, string] {
  let [stem, ext] = splitExt(base);
  const room = MAX_SEGMENT_BYTES - SUFFIX_BYTES;
  while (stem.length > 0 && Buffer.byteLength(stem + ext, 'utf8') > room) stem = [...stem].slice(0, -1).join('');
  while (Buffer.byteLength(stem + ext, 'utf8') > room) ext = [...ext].slice(0, -1).join('');
  return [stem, ext];
}

/** The version name of `rel` kept at `ms` (pure). Counter 0 means none. */
export function versionName(rel: string, ms: number, counter = 0): string {
  const slash = rel.lastIndexOf('/');
  const [stem, ext] = fittedParts(rel.slice(slash + 1));
  return `${rel.slice(0, slash + 1)}${stem}~${stamp(ms)}${counter > 0 ? `-${counter}` : ''}${ext}`;
}

/** The path a version of `rel` parses back to: `rel` itself unless its name had to be shortened. */
function versionedPath(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return rel.slice(0, slash + 1) + fittedParts(rel.slice(slash + 1)).join('');
}

// Greedy stem: a user file that already looks like a version gets the last stamp parsed.
const VERSION_RE = /^(.+)~(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?((?:\.[^.]*)?)$/;

/** Parses a version name back into its folder path, time and counter (pure). */
export function parseVersionName(version: string): { path: string; keptAtMs: number; counter: number } | undefined {
  const slash = version.lastIndexOf('/');
  const m = VERSION_RE.exec(version.slice(slash + 1));
  if (!m) return undefined;
  const [, stem, y, mo, d, h, mi, s, n, ext] = m;
  const base = stem + ext;
  // The name must round-trip: `a~stamp.b.c` is not a version of anything we would write.
  if (splitExt(base)[1] !== ext) return undefined;
  return {
    path: version.slice(0, slash + 1) + base,
    keptAtMs: Date.UTC(+y, +mo - 1, +d, +h, +mi, +s),
    counter: n === undefined ? 0 : Number(n),
  };
}

/** What a restore put back: the entry's metadata, and the version kept of what it replaced. */
export interface RestoredFile {
  readonly path: string;
  readonly absPath: string;
  readonly meta: FileMeta;
  readonly replaced?: string;
}

export interface VersionsOptions {
  /** Wall clock for the stamps and for age-based retention. */
  readonly clock: () => number;
  readonly retention?: Retention;
}

export class Versions {
  constructor(
    private readonly root: string,
    private readonly options: VersionsOptions,
  ) {}

  get retention(): Retention {
    return this.options.retention ?? {};
  }

  /**
   * Keeps what stands at `rel` as a new version and returns its name, or undefined when
   * nothing is there. `link` keeps the file at `rel` too (it is about to be replaced by a
   * rename); `move` takes it away (a delete).
   */
  async keep(rel: string, how: 'link' | 'move', signal?: AbortSignal): Promise<string | undefined> {
    throwIfAborted(signal);
    const abs = await safePath(this.root, rel);
    const st = await lstatOrUndefined(abs);
    if (st === undefined) return undefined;
    if (st.isDirectory()) throw new ApplyError('APPLY_IO', `cannot keep a version of directory ${rel}`);
    const now = this.options.clock();
    for (let counter = 0; ; counter++) {
      const version = versionName(rel, now, counter);
      const vrel = `${VERSIONS_REL}/${version}`;
      await ensureParents(this.root, vrel, { meta: true, signal });
      const vabs = await safePath(this.root, vrel, { meta: true });
      try {
        if (how === 'move') {
          // rename would replace an existing version silently: claim the name first.
          if ((await lstatOrUndefined(vabs)) !== undefined) continue;
          await fsp.rename(abs, vabs);
        } else await linkOrCopy(abs, vabs, st.isSymbolicLink());
        await fsyncDir(path.dirname(vabs));
        return version;
      } catch (e) {
        if (errnoOf(e) === 'EEXIST') continue;
        throw ioError(`cannot keep a version of ${rel}`, e);
      }
    }
  }

  /** Kept versions of `rel`, newest first. */
  async listVersions(rel: string): Promise<KeptVersion[]> {
    await safePath(this.root, rel);
    const slash = rel.lastIndexOf('/');
    const dirRel = `${VERSIONS_REL}${slash >= 0 ? `/${rel.slice(0, slash)}` : ''}`;
    const dirAbs = path.join(path.resolve(this.root), ...dirRel.split('/'));
    let names: string[];
    try {
      names = await fsp.readdir(dirAbs);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return [];
      throw ioError(`cannot list versions of ${rel}`, e);
    }
    const out: KeptVersion[] = [];
    const want = versionedPath(rel);
    for (const name of names) {
      const version = rel.slice(0, slash + 1) + name;
      const parsed = parseVersionName(version);
      if (parsed?.path !== want) continue;
      const st = await lstatOrUndefined(path.join(dirAbs, name));
      if (st === undefined || st.isDirectory()) continue;
      out.push({ path: rel, version, keptAtMs: parsed.keptAtMs, counter: parsed.counter, size: st.size });
    }
    return out.sort(newestFirst);
  }

  /**
   * Puts a kept version back at `rel` through the same atomic path as apply: copied into a
   * temp file, hashed, fsynced, and renamed over the target, whose current bytes become a
   * version first. Returns what now stands at `rel`, for the caller to record as a new entry
   * (and as the local index row, with `recordOf`, so the scanner does not announce it twice).
   */
  async restoreVersion(rel: string, version: string, signal?: AbortSignal): Promise<RestoredFile> {
    throwIfAborted(signal);
    if (parseVersionName(version)?.path !== versionedPath(rel)) throw new ApplyError('APPLY_VERSION_NOT_FOUND', `${version} is not a version of ${rel}`);
    const vabs = await safePath(this.root, `${VERSIONS_REL}/${version}`, { meta: true });
    const vst = await lstatOrUndefined(vabs);
    if (vst === undefined || vst.isDirectory()) throw new ApplyError('APPLY_VERSION_NOT_FOUND', `no version ${version} of ${rel}`);
    await ensureParents(this.root, rel, { signal });
    const target = await safePath(this.root, rel);
    const tmp = await newTempPath(this.root);
    try {
      let meta: FileMeta;
      if (vst.isSymbolicLink()) {
        const linkTarget = await fsp.readlink(vabs);
        await fsp.symlink(linkTarget, tmp);
        meta = { type: 'symlink', size: 0, mode: vst.mode & 0o7777, mtimeMs: Math.floor(vst.mtimeMs), contentHash: sha256(Buffer.from(linkTarget, 'utf8')), blocks: [], linkTarget };
      } else {
        await fsp.copyFile(vabs, tmp, fsc.COPYFILE_EXCL);
        const h = await fsp.open(tmp, 'r+');
        try {
          await h.chmod(vst.mode & 0o777);
          await h.utimes(utimesSeconds(Math.floor(vst.mtimeMs)), utimesSeconds(Math.floor(vst.mtimeMs)));
          await h.sync();
        } finally {
          await h.close();
        }
        const hashed = await hashFile(tmp, { signal });
        meta = { type: 'file', size: hashed.size, mode: hashed.mode, mtimeMs: hashed.mtimeMs, contentHash: hashed.contentHash, blocks: hashed.blocks };
      }
      throwIfAborted(signal);
      const replaced = await this.keep(rel, 'link', signal);
      await fsp.rename(tmp, target);
      await fsyncDir(path.dirname(target));
      return { path: rel, absPath: target, meta, replaced };
    } catch (e) {
      await removeQuietly(tmp);
      if (isScanError(e, 'ABORTED')) throw new ApplyError('APPLY_ABORTED', 'restore aborted', { cause: e });
      throw ioError(`cannot restore ${version}`, e);
    }
  }

  /** Removes what the retention rule says and nothing else; returns the versions removed. */
  async prune(nowMs: number, signal?: AbortSignal): Promise<string[]> {
    const { maxCount, maxAgeDays } = this.retention;
    if (maxCount === undefined && maxAgeDays === undefined) return [];
    const base = path.join(path.resolve(this.root), ...VERSIONS_REL.split('/'));
    const groups = new Map<string, KeptVersion[]>();
    const walk = async (dirAbs: string, dirRel: string): Promise<void> => {
      let entries;
      try {
        entries = await fsp.readdir(dirAbs, { withFileTypes: true });
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return;
        throw ioError(`cannot list ${dirAbs}`, e);
      }
      for (const ent of entries) {
        throwIfAborted(signal);
        const rel = dirRel ? `${dirRel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          await walk(path.join(dirAbs, ent.name), rel);
          continue;
        }
        const parsed = parseVersionName(rel);
        if (!parsed) continue; // Not ours: leave it.
        const list = groups.get(parsed.path) ?? [];
        list.push({ path: parsed.path, version: rel, keptAtMs: parsed.keptAtMs, counter: parsed.counter, size: 0 });
        groups.set(parsed.path, list);
      }
    };
    await walk(base, '');
    const removed: string[] = [];
    for (const list of groups.values()) {
      list.sort(newestFirst);
      for (let i = 0; i < list.length; i++) {
        const tooMany = maxCount !== undefined && i >= maxCount;
        const tooOld = maxAgeDays !== undefined && nowMs - list[i].keptAtMs > maxAgeDays * DAY_MS;
        if (!tooMany && !tooOld) continue;
        throwIfAborted(signal);
        await fsp.rm(path.join(base, ...list[i].version.split('/')), { force: true });
        removed.push(list[i].version);
      }
    }
    return removed.sort();
  }
}

function newestFirst(a: KeptVersion, b: KeptVersion): number {
  return b.keptAtMs - a.keptAtMs || b.counter - a.counter;
}

/** A hard link costs nothing and keeps the inode; filesystems without links get a copy. */
async function linkOrCopy(from: string, to: string, isLink: boolean): Promise<void> {
  if (isLink) {
    await fsp.symlink(await fsp.readlink(from), to);
    return;
  }
  try {
    await fsp.link(from, to);
  } catch (e) {
    if (!['EPERM', 'EXDEV', 'ENOTSUP', 'EMLINK', 'ENOSYS'].includes(errnoOf(e) ?? '')) throw e;
    await fsp.copyFile(from, to, fsc.COPYFILE_EXCL);
  }
}
