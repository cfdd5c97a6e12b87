/**
 * Which names this machine's filesystem can hold. A folder's paths are NFC and case-sensitive
 * everywhere; a local filesystem may fold case (Windows, macOS), fold Unicode normalisation
 * (macOS), or refuse names (Windows). A name that cannot be held is reported, never mangled:
 * mangling would write a second, different path back into the shared folder.
 *
 * `probeFilesystem` finds the traits by experiment in `.kinfolder/tmp`; the rest is pure.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ScanError, throwIfAborted } from './errors';
import { META_DIR } from './ignore';

export interface FsTraits {
  /** `a` and `A` name the same file. */
  readonly caseInsensitive: boolean;
  /** NFC and NFD spellings of a name reach the same file. */
  readonly normalizationInsensitive: boolean;
  /** Windows naming rules apply (reserved device names, forbidden characters, no trailing dot/space). */
  readonly windowsNames: boolean;
}

/** Linux ext4/btrfs/xfs: holds any name that is valid UTF-8 without '/' and NUL. */
export const POSIX_TRAITS: FsTraits = Object.freeze({ caseInsensitive: false, normalizationInsensitive: false, windowsNames: false });

export type LocalNameProblemCode =
  | 'EMPTY_COMPONENT'
  | 'DOT_COMPONENT'
  | 'NUL_CHARACTER'
  | 'NAME_TOO_LONG'
  | 'WINDOWS_RESERVED_NAME'
  | 'WINDOWS_FORBIDDEN_CHARACTER'
  | 'WINDOWS_TRAILING_DOT_OR_SPACE'
  | 'CASE_COLLISION'
  | 'NORMALIZATION_COLLISION';

export interface LocalNameProblem {
  readonly code: LocalNameProblemCode;
  /** The path component at fault (or, for a collision, the prefix that collides). */
  readonly component: string;
  readonly reason: string;
  /** For collisions: the path already on disk that this one would land on. */
  readonly collidesWith?: string;
}

/** Most filesystems limit one component to 255 bytes of UTF-8; NTFS to 255 UTF-16 units. */
const MAX_COMPONENT_LENGTH = 255;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// eslint-disable-next-line no-control-regex
const WINDOWS_FORBIDDEN = /[<>:"\\|?*\u0000-\u001f]/;

/** Why one component cannot be a file name here, or undefined. */
export function componentProblem(name: string, traits: FsTraits): LocalNameProblem | undefined {
  const p = (code: LocalNameProblemCode, reason: string): LocalNameProblem => ({ code, component: name, reason });
  if (name === '') return p('EMPTY_COMPONENT', 'empty path component');
  if (name === '.' || name === '..') return p('DOT_COMPONENT', `"${name}" cannot be a file name`);
  if (name.includes('\u0000')) return p('NUL_CHARACTER', 'names cannot contain NUL');
  const length = traits.windowsNames ? name.length : Buffer.byteLength(name, 'utf8');
  if (length > MAX_COMPONENT_LENGTH) return p('NAME_TOO_LONG', `longer than ${MAX_COMPONENT_LENGTH} ${traits.windowsNames ? 'UTF-16 units' : 'bytes'}`);
  if (traits.windowsNames) {
    if (WINDOWS_RESERVED.test(name)) return p('WINDOWS_RESERVED_NAME', `"${name}" is a reserved device name on Windows`);
    const bad = WINDOWS_FORBIDDEN.exec(name);
    if (bad) return p('WINDOWS_FORBIDDEN_CHARACTER', `Windows does not allow ${JSON.stringify(bad[0])} in names`);
    if (/[. ]$/.test(name)) return p('WINDOWS_TRAILING_DOT_OR_SPACE', 'Windows drops a trailing dot or space');
  }
  return undefined;
}

/** The spelling under which this filesystem files a path: two paths with one key are one file here. */
export function localKey(relPath: string, traits: FsTraits): string {
  let k = relPath;
  if (traits.normalizationInsensitive) k = k.normalize('NFC');
  if (traits.caseInsensitive) k = k.toLowerCase();
  return k;
}

/**
 * Remembers the paths a folder holds (or will hold) here and tells which new path cannot be
 * held next to them. Every directory prefix counts: `Docs/a` and `docs/b` collide at `Docs`.
 */
export class LocalNames {
  private readonly byKey = new Map<string, string>();

  constructor(readonly traits: FsTraits) {}

  /** Why `relPath` cannot be held here next to the paths added so far, or undefined. */
  problem(relPath: string): LocalNameProblem | undefined {
    const parts = relPath.split('/');
    for (const part of parts) {
      const bad = componentProblem(part, this.traits);
      if (bad) return bad;
    }
    if (!this.traits.caseInsensitive && !this.traits.normalizationInsensitive) return undefined;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const other = this.byKey.get(localKey(prefix, this.traits));
      if (other !== undefined && other !== prefix) {
        const caseOnly = other.normalize('NFC').toLowerCase() === prefix.normalize('NFC').toLowerCase() && other.normalize('NFC') !== prefix.normalize('NFC');
        return {
          code: caseOnly ? 'CASE_COLLISION' : 'NORMALIZATION_COLLISION',
          component: prefix,
          reason: caseOnly
            ? `this filesystem ignores letter case, and "${other}" is already here`
            : `this filesystem does not tell Unicode spellings apart, and "${other}" is already here`,
          collidesWith: other,
        };
      }
    }
    return undefined;
  }

  /** Records a path (and its directory prefixes) as present; first writer of a key keeps it. */
  add(relPath: string): void {
    const parts = relPath.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const key = localKey(prefix, this.traits);
      if (!this.byKey.has(key)) this.byKey.set(key, prefix);
    }
  }

  delete(relPath: string): void {
    const key = localKey(relPath, this.traits);
    if (this.byKey.get(key) === relPath) this.byKey.delete(key);
  }
}

/** Problem of one path against a set of others: the rules as a plain function, for tests and one-offs. */
export function localNameProblem(relPath: string, traits: FsTraits, existing: Iterable<string> = []): LocalNameProblem | undefined {
  const names = new LocalNames(traits);
  for (const p of existing) names.add(p);
  return names.problem(relPath);
}

/**
 * Finds the traits of the filesystem holding `root` by creating two probe files in
 * `<root>/.kinfolder/tmp` and looking them up under other spellings. Cleans up after itself.
 */
export async function probeFilesystem(root: string, options: { signal?: AbortSignal; platform?: NodeJS.Platform } = {}): Promise<FsTraits> {
  throwIfAborted(options.signal);
  const tmp = path.join(root, META_DIR, 'tmp');
  const tag = randomBytes(6).toString('hex');
  const caseName = path.join(tmp, `probe-${tag}-case-Ab`);
  const nfcName = path.join(tmp, `probe-${tag}-norm-\u00e9`);
  try {
    await fsp.mkdir(tmp, { recursive: true });
    await fsp.writeFile(caseName, '');
    await fsp.writeFile(nfcName, '');
    const caseInsensitive = await exists(path.join(tmp, `probe-${tag}-CASE-aB`));
    const normalizationInsensitive = await exists(path.join(tmp, `probe-${tag}-norm-e\u0301`));
    const platform = options.platform ?? process.platform;
    return { caseInsensitive, normalizationInsensitive, windowsNames: platform === 'win32' };
  } catch (e) {
    throw new ScanError('PROBE_FAILED', `cannot probe the filesystem under ${tmp}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fsp.rm(caseName, { force: true }).catch(() => undefined);
    await fsp.rm(nfcName, { force: true }).catch(() => undefined);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
