// Record builders for store tests: deterministic hashes from labels, so expected heads can be written by name.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EntryRecord } from '../../../plugin/src/store';

export function hashOf(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

export interface EntrySpec {
  folder?: string;
  author?: string;
  seq: number;
  label?: string;
  paths?: string[];
  parents?: string[];
  lamport?: number;
}

/** An entry whose hash is derived from folder, author and seq (or an explicit label). */
export function entry(spec: EntrySpec): EntryRecord {
  const folder = spec.folder ?? 'folder-1';
  const author = spec.author ?? 'AUTHOR-A';
  const label = spec.label ?? `${folder}/${author}/${spec.seq}`;
  return {
    folder,
    author,
    seq: spec.seq,
    hash: hashOf(label),
    prev: spec.seq > 1 ? hashOf(`${folder}/${author}/${spec.seq - 1}`) : null,
    lamport: spec.lamport ?? spec.seq,
    paths: spec.paths ?? [`file-${spec.seq}.txt`],
    parents: spec.parents ?? [],
    bytes: Buffer.from(`entry:${label}`),
  };
}

/** A chain of `count` entries of one feed starting at `from`, each at its own path. */
export function feed(author: string, from: number, count: number, folder = 'folder-1'): EntryRecord[] {
  return Array.from({ length: count }, (_, i) => entry({ folder, author, seq: from + i, paths: [`${author}/f${from + i}`] }));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
