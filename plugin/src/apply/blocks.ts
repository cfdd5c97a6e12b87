/**
 * Where apply gets block bytes: local files first (any file of any folder on this node that
 * the block index names), then whatever the sync layer plugs in. A source may lie (the file
 * changed since it was indexed, a peer sent garbage): every block is hashed before use.
 */
import { createHash } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import type { BlockIndex } from '../store';
import { throwIfAborted } from './errors';
import { safePath } from './safe-path';

export interface BlockSource {
  /** The block's bytes, hash-checked, or undefined when this source does not have it. */
  read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined>;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// O_NOFOLLOW: an indexed file that became a symlink must not make us read outside its folder.
const READ_FLAGS = fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

/** Reads blocks from local files named by the block index; stale locations are skipped. */
export class LocalBlockSource implements BlockSource {
  /** `rootOf` maps a folder id to its root on this node (undefined: not here, skip). */
  constructor(
    private readonly index: Pick<BlockIndex, 'findBlock'>,
    private readonly rootOf: (folder: string) => string | undefined,
  ) {}

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    throwIfAborted(signal);
    for (const loc of await this.index.findBlock(hash)) {
      throwIfAborted(signal);
      if (loc.size !== size) continue;
      const root = this.rootOf(loc.folder);
      if (root === undefined) continue;
      const data = await readAt(root, loc.path, loc.offset, size);
      if (data !== undefined && sha256(data) === hash) return data;
    }
    return undefined;
  }
}

async function readAt(root: string, rel: string, offset: number, size: number): Promise<Buffer | undefined> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(await safePath(root, rel), READ_FLAGS);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await h.read(buf, got, size - got, offset + got);
      if (bytesRead === 0) return undefined;
      got += bytesRead;
    }
    return buf;
  } catch {
    // A location is a claim to check, not a promise: gone, moved, unreadable all mean "not here".
    return undefined;
  } finally {
    await h?.close().catch(() => undefined);
  }
}

/** Asks each source in turn (local first, the network later); the first verified answer wins. */
export class ChainedBlockSource implements BlockSource {
  private readonly sources: BlockSource[];

  constructor(...sources: BlockSource[]) {
    this.sources = sources;
  }

  /** Adds a source at the end (the sync layer's, once it exists). */
  add(source: BlockSource): void {
    this.sources.push(source);
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    for (const s of this.sources) {
      throwIfAborted(signal);
      const data = await s.read(hash, size, signal);
      if (data !== undefined && data.length === size && sha256(data) === hash) return data;
    }
    return undefined;
  }
}
