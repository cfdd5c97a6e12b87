/**
 * Resumable temp files: a file too big to fetch again lightly is built at a name of its own
 * (`partial-<hash of path and content>` in `.kinfolder/tmp/`), each block written there as it
 * arrives, and the file is left there when the build stops (a dropped link, a kill). The next
 * build of the same content at the same path takes every block already there whose bytes still
 * hash right and fetches only the rest: the temp file is the resume state, so a received block
 * is written once, not also into a cache of received blocks.
 *
 * Nothing in a partial file is trusted: a block is taken from it only when its bytes hash to
 * the block's hash (a torn write or a hole is a miss), and the finished file is checked whole
 * like any other before the rename.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ensureParents, safePath } from './safe-path';
import { removeTemp, TMP_REL } from './temp';

export const PARTIAL_PREFIX = 'partial-';

/** Partial files being built now (resolved root and name): two builds never share one. */
const claimed = new Set<string>();
const claimKey = (root: string, name: string): string => `${path.resolve(root)}\0${name}`;

export interface PartialClaim {
  readonly path: string;
  /** The build is over (whatever became of the file). */
  release(): void;
}

/**
 * The resumable temp path for `rel` holding `contentHash`, claimed for one build; undefined
 * while another build holds it (the caller then builds at a fresh temp path).
 */
export async function claimPartial(root: string, rel: string, contentHash: string, verified?: Set<string>): Promise<PartialClaim | undefined> {
  const name = `${PARTIAL_PREFIX}${createHash('sha256').update(`${rel}\0${contentHash}`).digest('hex').slice(0, 32)}`;
  const key = claimKey(root, name);
  if (claimed.has(key)) return undefined;
  claimed.add(key);
  try {
    const tmpRel = `${TMP_REL}/${name}`;
    await ensureParents(root, tmpRel, { meta: true, verified });
    return { path: await safePath(root, tmpRel, { meta: true, verified }), release: () => void claimed.delete(key) };
  } catch (e) {
    claimed.delete(key);
    throw e;
  }
}

/**
 * Removes the partial files no build holds (the folder has nothing left to fetch: they belong
 * to content nobody wants any more). Returns how many.
 */
export function clearPartials(root: string): Promise<number> {
  return removeTemp(root, (name) => name.startsWith(PARTIAL_PREFIX) && !claimed.has(claimKey(root, name)));
}
