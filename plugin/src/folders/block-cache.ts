/**
 * Blocks received from peers, kept on disk (`.kinfolder/incoming/<hash>`) until the files that
 * need them are applied: a transfer cut by a dropped link or a crash resumes without fetching
 * again what already arrived. Each block is written whole (temp file + rename) and checked
 * against its hash when read back, so a torn or altered file is only a miss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { BlockSource } from '../apply';

const HASH = /^[0-9a-f]{64}$/;
/** Beyond this, the oldest blocks go first: a cache, not a second copy of the folder. */
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;

export class CachingBlockSource implements BlockSource {
  private bytes = -1;

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
    const kept = await fsp.readFile(this.file(hash)).catch(() => undefined);
    if (kept && kept.length === size && createHash('sha256').update(kept).digest('hex') === hash) return kept;
    const data = await this.network.read(hash, size, signal);
    if (data) await this.keep(hash, data).catch(() => undefined);
    return data;
  }

  private async keep(hash: string, data: Buffer): Promise<void> {
    if (this.bytes < 0) this.bytes = await this.size();
    if (this.bytes + data.length > this.maxBytes) await this.trim(data.length);
    await fsp.mkdir(this.dir, { recursive: true });
    const tmp = `${this.file(hash)}.${randomBytes(4).toString('hex')}.tmp`;
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, this.file(hash));
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
      this.bytes -= st?.size ?? 0;
    }
  }

  /** Everything arrived and was applied: the kept blocks are in the files now. */
  async clear(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
    this.bytes = 0;
  }
}
