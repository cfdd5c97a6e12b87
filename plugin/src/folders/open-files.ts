/**
 * Which files under the folders' roots some process on this machine has open, read from
 * /proc/<pid>/fd (Linux; elsewhere nothing is found). This is what "Bob has report.docx open"
 * in the panel rests on: an editor holding a file, not a guess.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

const RESERVED = `${path.sep}.kinfolder`;

/** A directory's names, [] when it is gone or not ours to read. */
function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function linkTarget(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/**
 * For each root, the folder-relative paths ('/'-separated) held open now. One process's
 * descriptors are read synchronously (a readlink of /proc costs microseconds, a promise for it
 * ten times more: the walk cost every sidecar tens of CPU-ms every 5 s), with a turn of the
 * event loop between processes so nothing waits behind the walk.
 */
export async function openPathsUnder(roots: readonly string[], signal?: AbortSignal): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>(roots.map((r) => [r, new Set<string>()]));
  if (process.platform !== 'linux' || roots.length === 0) return out;
  const pids = names('/proc').filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  for (const pid of pids) {
    signal?.throwIfAborted();
    // Processes of other users (or gone meanwhile) are not readable: nothing to learn there.
    for (const fd of names(`/proc/${pid}/fd`)) {
      const target = linkTarget(`/proc/${pid}/fd/${fd}`);
      if (!target || !target.startsWith('/')) continue;
      for (const root of roots) {
        if (!target.startsWith(root + path.sep)) continue;
        const rel = target.slice(root.length + 1);
        if (rel.startsWith(RESERVED.slice(1)) || rel.endsWith(' (deleted)')) continue;
        out.get(root)!.add(rel.split(path.sep).join('/'));
      }
    }
    await nextTurn();
  }
  return out;
}
