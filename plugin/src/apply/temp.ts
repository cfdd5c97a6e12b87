/**
 * Temp files live in `<root>/.kinfolder/tmp/` (same filesystem as the target, so the final
 * rename is atomic). Names carry a prefix so a restart can tell apply's leftovers from
 * other users of the directory (the filesystem probe) and remove only those.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { META_DIR } from '../scan';
import { errnoOf, ioError } from './errors';
import { ensureParents, safePath } from './safe-path';

export const TMP_REL = `${META_DIR}/tmp`;
export const TEMP_PREFIX = 'apply-';

/**
 * Temp names: random per process, then a counter. A random name per file cost a
 * randomFillSync each (1% of a receiver's main thread for 10k small files); a name taken
 * anyway (a leftover) only fails its exclusive create.
 */
const PROCESS_TAG = randomBytes(6).toString('hex');
let tempCounter = 0;

/** A fresh temp path (not created); the tmp directory exists when this returns. `verified`: see SafePathOptions. */
export async function newTempPath(root: string, verified?: Set<string>): Promise<string> {
  // Once the run checked the tmp directory, both calls answer from `verified` without a walk.
  const rel = `${TMP_REL}/${TEMP_PREFIX}${PROCESS_TAG}-${(tempCounter++).toString(36)}`;
  await ensureParents(root, rel, { meta: true, verified });
  return safePath(root, rel, { meta: true, verified });
}

/** Removes apply's leftover temp files (a crash or a kill mid-build). Returns how many. */
export function cleanTemp(root: string): Promise<number> {
  return removeTemp(root, (name) => name.startsWith(TEMP_PREFIX));
}

/** Removes the files of the tmp directory that `which` names. Returns how many. */
export async function removeTemp(root: string, which: (name: string) => boolean): Promise<number> {
  const dir = path.join(path.resolve(root), META_DIR, 'tmp');
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 0;
    throw ioError(`cannot list ${dir}`, e);
  }
  let removed = 0;
  for (const n of names) {
    if (!which(n)) continue;
    await fsp.rm(path.join(dir, n), { force: true, recursive: true });
    removed++;
  }
  return removed;
}

export async function removeQuietly(abs: string | undefined): Promise<void> {
  if (abs !== undefined) await fsp.rm(abs, { force: true }).catch(() => undefined);
}
