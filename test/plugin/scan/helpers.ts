import { contentHashOf } from '../../../plugin/src/log';
import { chunkBuffer } from '../../../plugin/src/scan/chunker';
/** Shared test helpers: deterministic bytes from a seed, temp folders that clean up. */
import { createCipheriv, createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** AES-128-CTR keystream keyed by SHA-256(seed): the same seed gives the same bytes everywhere, fast. */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

export async function makeTempDir(prefix = 'kinfolder-scan-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The content hash the scanner gives these bytes (over their block list, see contentHashOf). */
export function fileContentHash(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return contentHashOf(chunkBuffer(bytes).blocks);
}
