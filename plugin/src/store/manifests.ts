/** Manifest versions per folder, overruled concurrent edits included. */
import { blobToHash, checkSeq, checkText, hashToBlob, optBlobToHash, optHashToBlob } from './codec';
import type { StoreContext } from './context';
import { StoreError } from './errors';
import type { ManifestRecord } from './records';

export interface ManifestStore {
  /** Stores a version; storing the same hash again only updates `overruled` (a later resolution may overrule it). */
  putManifest(manifest: ManifestRecord): Promise<void>;
  /** Every stored version of the folder, overruled ones included, by version then hash. */
  manifestChain(folder: string): Promise<ManifestRecord[]>;
  /** The highest version that is not overruled. */
  latestManifest(folder: string): Promise<ManifestRecord | undefined>;
  /** Folders that have at least one manifest, sorted. */
  listFolders(): Promise<string[]>;
}

interface ManifestRow {
  version: number;
  hash: Buffer;
  prev: Buffer | null;
  author: string;
  bytes: Buffer;
  signature: Buffer;
  overruled: number;
}

const COLUMNS = 'version, hash, prev, author, bytes, signature, overruled';

export function manifestStore(ctx: StoreContext): ManifestStore {
  const { writer, reader, folders } = ctx;

  async function putManifest(m: ManifestRecord): Promise<void> {
    if (!Buffer.isBuffer(m.bytes) || !Buffer.isBuffer(m.signature)) {
      throw new StoreError('STORE_INVALID_ARGUMENT', `manifest ${m.hash} needs bytes and signature as Buffers`);
    }
    const row = [
      hashToBlob(m.hash, 'manifest.hash'),
      checkText(m.folder, 'manifest.folder'),
      checkSeq(m.version, 'manifest.version'),
      optHashToBlob(m.prev, 'manifest.prev'),
      checkText(m.author, 'manifest.author'),
      m.bytes,
      m.signature,
      m.overruled ? 1 : 0,
    ];
    await writer.transaction(async (tx) => {
      row[1] = await folders.ensureOneIn(tx, m.folder);
      await tx.run(
        `INSERT INTO manifests(hash, folder_id, version, prev, author, bytes, signature, overruled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(hash) DO UPDATE SET overruled = excluded.overruled`,
        row,
      );
    });
  }

  async function manifestChain(folder: string): Promise<ManifestRecord[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<ManifestRow>(`SELECT ${COLUMNS} FROM manifests WHERE folder_id = ? ORDER BY version, hash`, [fid]);
    return rows.map((r) => toManifest(folder, r));
  }

  async function latestManifest(folder: string): Promise<ManifestRecord | undefined> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return undefined;
    const r = await reader.get<ManifestRow>(
      `SELECT ${COLUMNS} FROM manifests WHERE folder_id = ? AND overruled = 0 ORDER BY version DESC, hash LIMIT 1`,
      [fid],
    );
    return r && toManifest(folder, r);
  }

  async function listFolders(): Promise<string[]> {
    const rows = await reader.all<{ folder: string }>(
      'SELECT f.folder FROM folders f WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.folder_id = f.id) ORDER BY f.folder',
    );
    return rows.map((r) => r.folder);
  }

  return { putManifest, manifestChain, latestManifest, listFolders };
}

function toManifest(folder: string, r: ManifestRow): ManifestRecord {
  return {
    folder,
    version: r.version,
    hash: blobToHash(r.hash),
    prev: optBlobToHash(r.prev),
    author: r.author,
    bytes: r.bytes,
    signature: r.signature,
    overruled: r.overruled === 1,
  };
}
