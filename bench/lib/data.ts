/**
 * Bench data and the waits on it: incompressible files from a seeded keystream, trees of small
 * files, and condition loops that watch a folder on disk until the expected files are there.
 */
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export const MiB = 1024 * 1024;

/** AES-CTR keystream: random-looking (incompressible) and reproducible from a seed. */
export function keystream(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

export async function writeRandomFile(file: string, size: number, seed: string, prefix?: Buffer): Promise<void> {
  const next = keystream(seed);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const h = await fsp.open(file, 'w');
  try {
    if (prefix) await h.write(prefix);
    for (let done = 0; done < size; done += 8 * MiB) await h.write(next(Math.min(8 * MiB, size - done)));
  } finally {
    await h.close();
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A tree of `dirs` directories holding `perDir` files each (`d<i>/f<j>`): `size` random bytes each (0: empty). */
export interface Tree {
  readonly dirs: number;
  readonly perDir: number;
  readonly size: number;
}

export const treeFiles = (t: Tree): number => t.dirs * t.perDir;

export async function writeTree(root: string, t: Tree, seed: string, prefix = ''): Promise<void> {
  const next = keystream(seed);
  for (let d = 0; d < t.dirs; d++) {
    const dir = path.join(root, `${prefix}d${d}`);
    await fsp.mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: t.perDir }, (_, i) => fsp.writeFile(path.join(dir, `f${i}`), t.size ? next(t.size) : '')));
  }
}

/**
 * Polls until `done()` holds; returns performance.now() of the first poll that saw it.
 * Fails with `what` after `ms`. `progress`, if given, is printed every 15 s of waiting (a stall
 * shows where it stalls).
 */
export async function until(done: () => boolean | Promise<boolean>, what: string, ms: number, everyMs = 50, progress?: () => string | Promise<string>): Promise<number> {
  const start = performance.now();
  const deadline = start + ms;
  let nextReport = start + 15_000;
  for (;;) {
    if (await done()) return performance.now();
    const now = performance.now();
    if (now > deadline) throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`);
    if (progress && now >= nextReport) {
      nextReport = now + 15_000;
      console.log(`    ... ${Math.round((now - start) / 1000)} s waiting for ${what}: ${await progress()}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A check that a tree arrived in `root`: directories already complete are not read again, so a
 * poll costs little once most of the tree is there. Files appear under their final names only
 * when complete (the applier renames from .kinfolder/tmp), so a name present is a file done.
 */
export function treeArrived(root: string, t: Tree, prefix = ''): { check: () => boolean; have: () => number } {
  /** Per directory not complete yet: files counted, and the directory's mtime when they were (NaN: not read yet). */
  const pending = new Map<string, { n: number; mtimeMs: number; readAt: number }>();
  for (let d = 0; d < t.dirs; d++) pending.set(path.join(root, `${prefix}d${d}`), { n: 0, mtimeMs: NaN, readAt: 0 });
  let doneDirs = 0;
  // A directory is listed again only when its mtime moved: listing all 100 of both peers every
  // 50 ms took ~2 s of this process's CPU in a 25 s transfer (counted in the figure, and taken
  // from the sidecars' cores). Timestamps can be coarse (a clock tick): an mtime within 100 ms
  // of the last listing does not prove that nothing came after it, so that one is listed again.
  const check = (): boolean => {
    for (const [dir, had] of pending) {
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(dir);
      } catch {
        continue; // not there yet
      }
      if (st.mtimeMs === had.mtimeMs && had.readAt - st.mtimeMs > 100) continue;
      const readAt = Date.now();
      let n = 0;
      try {
        for (const name of fs.readdirSync(dir)) if (name[0] === 'f') n++;
      } catch {
        n = 0;
      }
      if (n >= t.perDir) {
        pending.delete(dir);
        doneDirs++;
      } else pending.set(dir, { n, mtimeMs: st.mtimeMs, readAt });
    }
    return pending.size === 0;
  };
  const have = (): number => doneDirs * t.perDir + [...pending.values()].reduce((s, d) => s + d.n, 0);
  return { check, have };
}

/** Every file of `expected` (relative path → size) is in `root` with its size; `have`: how many are. */
export function filesArrived(root: string, expected: Map<string, number>): { check: () => boolean; have: () => number } {
  const pending = new Map(expected);
  const check = (): boolean => {
    for (const [p, size] of pending) {
      try {
        if (fs.statSync(path.join(root, p)).size === size) pending.delete(p);
      } catch {
        // not there yet
      }
    }
    return pending.size === 0;
  };
  return { check, have: () => expected.size - pending.size };
}
