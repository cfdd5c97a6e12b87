/** Shared apply test helpers: temp folders, a real store, a scanner stand-in, entry authors. */
import { createCipheriv, createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { advance, FolderState, nextEntry, type Entry, type EntryBody, type FeedTip, type FileMeta, type HashedEntry } from '../../../plugin/src/log';
import { chunkBuffer, hashFile } from '../../../plugin/src/scan';
import { Store } from '../../../plugin/src/store';
import type { BlockSource } from '../../../plugin/src/apply';

export const FOLDER = '6b696e666f6c6465722d746573742d31';
export const SOURCE_FOLDER = '6b696e666f6c6465722d746573742d32';
export const ALICE = 'A'.repeat(40);
export const BOB = 'B'.repeat(40);

/** AES-CTR keystream from a seed: the same seed gives the same bytes, fast. */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export interface Sandbox {
  /** Everything lives under here; nothing may appear outside it. */
  readonly base: string;
  /** The synced folder's root. */
  readonly root: string;
  readonly store: Store;
  close(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'kinfolder-apply-'));
  const root = path.join(base, 'folder');
  await fsp.mkdir(root);
  const store = await Store.open(path.join(base, 'store.sqlite'));
  return {
    base,
    root,
    store,
    close: async () => {
      await store.close();
      await fsp.rm(base, { recursive: true, force: true });
    },
  };
}

/** The file meta an entry would carry for these bytes. */
export function metaOf(data: Buffer, mode = 0o644, mtimeMs = 1_700_000_000_000): FileMeta {
  const c = chunkBuffer(data);
  return { type: 'file', size: c.size, mode, mtimeMs, contentHash: c.contentHash, blocks: c.blocks };
}

/** What the scanner would do for one path: hash it, record it in the local index and block index. */
export async function scanInto(store: Store, folder: string, root: string, rel: string): Promise<FileMeta> {
  const abs = path.join(root, ...rel.split('/'));
  const st = await fsp.lstat(abs);
  if (st.isDirectory()) {
    await store.upsertLocalFiles([{ folder, path: rel, size: 0, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino, mode: st.mode & 0o7777, contentHash: sha256Hex(''), type: 'dir' }]);
    return { type: 'dir', size: 0, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), contentHash: sha256Hex(''), blocks: [] };
  }
  const h = await hashFile(abs);
  await store.upsertLocalFiles([{ folder, path: rel, size: h.size, mtimeMs: h.mtimeMs, inode: h.inode, mode: h.mode, contentHash: h.contentHash, type: 'file' }]);
  await store.removeBlockLocations(folder, rel);
  let offset = 0;
  await store.addBlockLocations(h.blocks.map((b) => ({ hash: b.hash, size: b.size, folder, path: rel, offset: (offset += b.size) - b.size })));
  return { type: 'file', size: h.size, mode: h.mode, mtimeMs: h.mtimeMs, contentHash: h.contentHash, blocks: h.blocks };
}

export async function writeAndScan(store: Store, folder: string, root: string, rel: string, data: Buffer): Promise<FileMeta> {
  const abs = path.join(root, ...rel.split('/'));
  await fsp.mkdir(path.dirname(abs), { recursive: true });
  await fsp.writeFile(abs, data);
  return scanInto(store, folder, root, rel);
}

/** One author's feed: builds linked entries. */
export class Author {
  private tip: FeedTip | null = null;
  constructor(
    readonly fingerprint: string,
    private wallTimeMs = Date.UTC(2026, 10, 21, 10, 15, 0),
  ) {}

  private next(body: EntryBody, parents: HashedEntry[]): HashedEntry {
    const e = nextEntry(this.tip, { folder: FOLDER, author: this.fingerprint, wallTimeMs: this.wallTimeMs, body, parents: parents.map((p) => ({ hash: p.hash, lamport: p.entry.lamport })) });
    this.tip = advance(this.tip, e);
    this.wallTimeMs += 1000;
    return e;
  }
  put(p: string, meta: FileMeta, parents: HashedEntry[] = []): HashedEntry {
    return this.next({ op: 'put', path: p, meta }, parents);
  }
  delete(p: string, parents: HashedEntry[] = []): HashedEntry {
    return this.next({ op: 'delete', path: p }, parents);
  }
  move(from: string, to: string, meta: FileMeta, parents: HashedEntry[] = []): HashedEntry {
    return this.next({ op: 'move', from, to, meta }, parents);
  }
}

/** Blocks held in memory (stands in for the network); `corrupt` hands out wrong bytes for one hash. */
export class MemoryBlockSource implements BlockSource {
  readonly blocks = new Map<string, Buffer>();
  reads = 0;
  constructor(private readonly corrupt = new Set<string>()) {}
  addFile(data: Buffer): this {
    let off = 0;
    for (const b of chunkBuffer(data).blocks) {
      this.blocks.set(b.hash, data.subarray(off, off + b.size));
      off += b.size;
    }
    return this;
  }
  async read(hash: string, size: number): Promise<Buffer | undefined> {
    this.reads++;
    const b = this.blocks.get(hash);
    if (b === undefined) return undefined;
    if (this.corrupt.has(hash)) {
      const bad = Buffer.from(b);
      bad[0] ^= 0xff;
      return bad;
    }
    return b.length === size ? b : undefined;
  }
}

/** Every file path under `dir`, relative, sorted (lstat: links listed, not followed). */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

export const read = (root: string, rel: string): Promise<Buffer> => fsp.readFile(path.join(root, ...rel.split('/')));

/** A FolderState over `entries` and the lookup applyState needs to go with it. */
export function stateOf(...entries: HashedEntry[]): { state: FolderState; entryOf: (h: string) => Entry | undefined } {
  const state = new FolderState();
  const byHash = new Map<string, Entry>();
  for (const e of entries) {
    state.apply(e);
    byHash.set(e.hash, e.entry);
  }
  return { state, entryOf: (h) => byHash.get(h) };
}

/** Folder-relative names of apply's leftover temp files. */
export async function tempFiles(root: string): Promise<string[]> {
  try {
    return (await fsp.readdir(path.join(root, '.kinfolder', 'tmp'))).filter((n) => n.startsWith('apply-'));
  } catch {
    return [];
  }
}
