/**
 * Which files under the folders' roots some process on this machine has open, read from
 * /proc/<pid>/fd (Linux; elsewhere nothing is found). This is what "Bob has report.docx open"
 * in the panel rests on: an editor holding a file, not a guess.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

const RESERVED = `${path.sep}.kinfolder`;

/** For each root, the folder-relative paths ('/'-separated) held open now. */
export async function openPathsUnder(roots: readonly string[], signal?: AbortSignal): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>(roots.map((r) => [r, new Set<string>()]));
  if (process.platform !== 'linux' || roots.length === 0) return out;
  const pids = (await fsp.readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  for (const pid of pids) {
    signal?.throwIfAborted();
    // Processes of other users (or gone meanwhile) are not readable: nothing to learn there.
    const fds = await fsp.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await fsp.readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      if (!target || !target.startsWith('/')) continue;
      for (const root of roots) {
        if (!target.startsWith(root + path.sep)) continue;
        const rel = target.slice(root.length + 1);
        if (rel.startsWith(RESERVED.slice(1)) || rel.endsWith(' (deleted)')) continue;
        out.get(root)!.add(rel.split(path.sep).join('/'));
      }
    }
  }
  return out;
}
