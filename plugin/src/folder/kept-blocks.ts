/**
 * Blocks from kept versions. Apply keeps a replaced file under `.kinfolder/versions/` before it
 * renames the new one over it, and then forgets the old file's block locations. The engine
 * files those locations again under the version (folder `keptFolder(folder)`, path = version
 * name), so the bytes stay findable: the local version that lost a conflict is replaced at the
 * path first, and its conflict copy, here and at every peer, is built from these blocks.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { VERSIONS_REL, type BlockSource } from '../apply';
import type { BlockIndex } from '../store';

/** The block-index folder under which a folder's kept versions are filed. */
export const keptFolder = (folder: string): string => `${folder}:kept`;

export class KeptBlockSource implements BlockSource {
  private readonly kept: string;

  constructor(
    private readonly root: string,
    folder: string,
    private readonly index: Pick<BlockIndex, 'findBlock'>,
  ) {
    this.kept = keptFolder(folder);
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    for (const loc of await this.index.findBlock(hash)) {
      if (signal?.aborted) return undefined;
      if (loc.folder !== this.kept || loc.size !== size || loc.path.split('/').includes('..')) continue;
      const data = await readAt(path.join(this.root, ...VERSIONS_REL.split('/'), ...loc.path.split('/')), loc.offset, size);
      if (data !== undefined && createHash('sha256').update(data).digest('hex') === hash) return data;
    }
    return undefined;
  }
}

async function readAt(abs: string, offset: number, size: number): Promise<Buffer | undefined> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(abs, 'r');
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await h.read(buf, got, size - got, offset + got);
      if (bytesRead === 0) return undefined;
      got += bytesRead;
    }
    return buf;
  } catch {
    // A version pruned or moved since: not here.
    return undefined;
  } finally {
    await h?.close().catch(() => undefined);
  }
}
