/**
 * Blocks received from peers, kept on disk (`.kinfolder/incoming/<hash>`) until the files that
 * need them are applied: a transfer cut by a dropped link or a crash resumes without fetching
 * again what already arrived. Each block is checked against its hash when read back, so a torn
 * or altered file is only a miss (which is why it is written in place, without temp + rename).
 * Which blocks are kept is listed once and then known in memory: a miss costs no failed open.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BlockSource } from '../apply';
import { sha256 } from '../apply/blocks';

const HASH = /^[0-9a-f]{64}$/;
const fsOpen = promisify(fs.open);
const fsWrite = promisify(fs.write);
const fsClose = promisify(fs.close);

/** writeFile on a raw descriptor: fs/promises' FileHandle costs an object with a finalizer per block. */
async function writeWhole(file: string, data: Buffer): Promise<void> {
  const fd = await fsOpen(file, 'w');
  try {
    for (let off = 0; off < data.length; ) off += (await fsWrite(fd, data, off, data.length - off, off)).bytesWritten;
  } finally {
    await fsClose(fd);
  }
}
/** Beyond this, the oldest blocks go first: a cache, not a second copy of the folder. */
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;

export class CachingBlockSource implements BlockSource {
  private bytes = -1;
  /** Hashes of the blocks in the directory (undefined until listed). */
  private kept: Set<string> | undefined;
  private listing: Promise<Set<string>> | undefined;

  constructor(
    private readonly dir: string,
    private readonly network: BlockSource,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  private file(hash: string): string {
    return path.join(this.dir, hash);
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (!HASH.test(hash)) return this.network.read(hash, size, signal);
    if ((await this.list()).has(hash)) {
      const kept = await fsp.readFile(this.file(hash)).catch(() => undefined);
      if (kept && kept.length === size && sha256(kept) === hash) return kept;
      this.kept?.delete(hash); // torn or altered: written again once fetched
    }
    const data = await this.network.read(hash, size, signal);
    if (data) await this.keep(hash, data).catch(() => undefined);
    return data;
  }

  private list(): Promise<Set<string>> {
    if (this.kept) return Promise.resolve(this.kept);
    this.listing ??= fsp
      .readdir(this.dir)
      .catch(() => [] as string[])
      .then((names) => (this.kept = new Set(names.filter((n) => HASH.test(n)))))
      .finally(() => {
        this.listing = undefined;
      });
    return this.listing;
  }

  private async keep(hash: string, data: Buffer): Promise<void> {
    const kept = await this.list();
    if (kept.has(hash)) return;
    if (this.bytes < 0) this.bytes = await this.size();
    if (this.bytes + data.length > this.maxBytes) await this.trim(data.length);
    try {
      await writeWhole(this.file(hash), data);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fsp.mkdir(this.dir, { recursive: true });
      await writeWhole(this.file(hash), data);
    }
    kept.add(hash);
    this.bytes += data.length;
  }

  private async size(): Promise<number> {
    let n = 0;
    for (const name of await fsp.readdir(this.dir).catch(() => [] as string[])) n += (await fsp.stat(path.join(this.dir, name)).catch(() => undefined))?.size ?? 0;
    return n;
  }

  private async trim(need: number): Promise<void> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const stats = await Promise.all(names.map(async (n) => ({ n, st: await fsp.stat(path.join(this.dir, n)).catch(() => undefined) })));
    stats.sort((a, b) => (a.st?.mtimeMs ?? 0) - (b.st?.mtimeMs ?? 0));
    for (const { n, st } of stats) {
      if (this.bytes + need <= this.maxBytes) break;
      await fsp.rm(path.join(this.dir, n), { force: true });
      this.kept?.delete(n);
      this.bytes -= st?.size ?? 0;
    }
  }

  /** Everything arrived and was applied: the kept blocks are in the files now. */
  async clear(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
    this.kept = new Set();
    this.bytes = 0;
  }
}
