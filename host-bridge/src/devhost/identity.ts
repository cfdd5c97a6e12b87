/** The node's PGP identity and location id: created on first start, loaded afterwards. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { DevhostError } from './errors';
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from './fsutil';
import { fingerprintOf, keyAlgorithmName, signDetached } from './pgp';

export type KeyType = 'ed25519' | 'rsa3072';

export interface Identity {
  readonly fingerprint: string;
  readonly locationId: string;
  readonly displayName: string;
  readonly keyAlgorithm: string;
  readonly publicKeyArmored: string;
  readonly publicKey: openpgp.Key;
  /** Binary OpenPGP detached signature over `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export const identityPaths = (dataDir: string) => {
  const dir = path.join(dataDir, 'identity');
  return { dir, key: path.join(dir, 'key.asc'), location: path.join(dir, 'location') };
};

const LOCATION_ID = /^[0-9a-f]{32}$/;

export async function identityExists(dataDir: string): Promise<boolean> {
  return (await readFileIfExists(identityPaths(dataDir).key)) !== undefined;
}

/** Loads the identity in `dataDir`, creating it (key and location id) if there is none. */
export async function loadOrCreateIdentity(opts: { dataDir: string; name: string; keyType?: KeyType }): Promise<{ identity: Identity; created: boolean }> {
  const p = identityPaths(opts.dataDir);
  await ensurePrivateDir(opts.dataDir);
  await ensurePrivateDir(p.dir);
  let created = false;
  if ((await readFileIfExists(p.key)) === undefined) {
    const name = opts.name.trim();
    if (name.length === 0) throw new DevhostError('IDENTITY_INVALID', 'a display name is needed to create an identity');
    const keyOptions =
      opts.keyType === 'rsa3072'
        ? ({ type: 'rsa', rsaBits: 3072 } as const)
        : ({ type: 'ecc', curve: 'ed25519Legacy' } as const);
    const { privateKey } = await openpgp.generateKey({ ...keyOptions, userIDs: [{ name }], format: 'armored' });
    await writeFileAtomic(p.key, privateKey, 0o600);
    created = true;
  }
  if ((await readFileIfExists(p.location)) === undefined) {
    await writeFileAtomic(p.location, `${randomBytes(16).toString('hex')}\n`, 0o600);
  }
  return { identity: await loadIdentity(opts.dataDir), created };
}

export async function loadIdentity(dataDir: string): Promise<Identity> {
  const p = identityPaths(dataDir);
  const armored = await readFileIfExists(p.key);
  if (armored === undefined) throw new DevhostError('IDENTITY_INVALID', `no identity in ${dataDir} (run init first)`);
  const mode = (await fs.stat(p.key)).mode & 0o777;
  if (mode & 0o077) throw new DevhostError('IDENTITY_INVALID', `${p.key} is readable by others (mode ${mode.toString(8)}); expected 600`);
  let privateKey: openpgp.PrivateKey;
  try {
    privateKey = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw new DevhostError('IDENTITY_INVALID', `${p.key} is not an OpenPGP private key: ${(err as Error).message}`);
  }
  if (!privateKey.isDecrypted()) throw new DevhostError('IDENTITY_INVALID', `${p.key} is passphrase-protected; the devhost needs an unlocked key`);
  const locationId = ((await readFileIfExists(p.location)) ?? '').trim();
  if (!LOCATION_ID.test(locationId)) throw new DevhostError('IDENTITY_INVALID', `${p.location} does not hold a 32-hex location id`);
  const publicKey = privateKey.toPublic();
  const userId = privateKey.users[0]?.userID;
  return {
    fingerprint: fingerprintOf(privateKey),
    locationId,
    displayName: userId?.name || userId?.userID || 'unnamed',
    keyAlgorithm: keyAlgorithmName(privateKey),
    publicKeyArmored: publicKey.armor(),
    publicKey,
    sign: (message) => signDetached(privateKey, message),
  };
}
