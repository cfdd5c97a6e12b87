/**
 * Fixed inputs shared by the vector generator (scripts/gen-vectors.ts) and the tests: the
 * committed test keys, a fixed folder id, deterministic hashes and signers with a fixed
 * signature time (Ed25519 and RSA PKCS#1 v1.5 signatures are then byte-for-byte stable).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { sha256Hex } from '../../plugin/src/log/encoding';
import { OpenpgpVerifier } from '../../plugin/src/log/openpgp-verifier';
import type { BlockRef, FileMeta, Fingerprint, Hash, Signer } from '../../plugin/src/log/types';
import type { Member, Role } from '../../plugin/src/acl/types';

export const FOLDER = '6b696e666f6c6465722d746573742d31';
export const OTHER_FOLDER = '6b696e666f6c6465722d746573742d32';
export const SIGNATURE_DATE = new Date('2025-06-01T12:00:00Z');
export const KEY_DIR = path.join(__dirname, 'keys');
export const NAMES = ['alice', 'bob', 'carol', 'dave'] as const;
export type Name = (typeof NAMES)[number];

export interface TestIdentity {
  readonly name: Name;
  readonly fingerprint: Fingerprint;
  readonly publicKeyArmored: string;
  readonly privateKey: openpgp.PrivateKey;
  readonly signer: Signer;
}

/** A signer over the raw bytes (or over `wrap(bytes)`, as the host does) at a fixed time. */
export function signerFor(privateKey: openpgp.PrivateKey, wrap?: (b: Uint8Array) => Uint8Array): Signer {
  return {
    async sign(message: Uint8Array): Promise<Uint8Array> {
      const sig = await openpgp.sign({
        message: await openpgp.createMessage({ binary: wrap ? wrap(message) : message }),
        signingKeys: privateKey,
        detached: true,
        format: 'binary',
        date: SIGNATURE_DATE,
        // openpgp 6 salts signatures through a notation by default; vectors need stable bytes.
        config: { nonDeterministicSignaturesViaNotation: false },
      });
      return sig as Uint8Array;
    },
  };
}

let cached: Promise<Record<Name, TestIdentity>> | undefined;

/** alice, carol, dave: Ed25519; bob: RSA 3072 (as Retroshare keys are). */
export function loadIdentities(): Promise<Record<Name, TestIdentity>> {
  cached ??= (async () => {
    const out = {} as Record<Name, TestIdentity>;
    for (const name of NAMES) {
      const privateKey = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(path.join(KEY_DIR, `${name}.key.asc`), 'utf8') });
      out[name] = {
        name,
        fingerprint: privateKey.getFingerprint().toUpperCase(),
        publicKeyArmored: privateKey.toPublic().armor(),
        privateKey,
        signer: signerFor(privateKey),
      };
    }
    return out;
  })();
  return cached;
}

export const verifier = new OpenpgpVerifier();

/** A deterministic hash named by a label. */
export const h = (label: string): Hash => sha256Hex(Buffer.from(label, 'utf8'));

/** File metadata of `size` bytes split into 128 KiB blocks, all derived from `label`. */
export function fileMeta(label: string, size = 1000, mtimeMs = 1_750_000_000_000): FileMeta {
  const blocks: BlockRef[] = [];
  for (let off = 0, i = 0; off < size; off += 131072, i++) blocks.push({ hash: h(`${label}/block${i}`), size: Math.min(131072, size - off) });
  return { type: 'file', size, mode: 0o644, mtimeMs, contentHash: h(label), blocks };
}

export const member = (id: TestIdentity, role: Role, pathPrefixes?: string[]): Member =>
  pathPrefixes ? { fingerprint: id.fingerprint, name: id.name, publicKeyArmored: id.publicKeyArmored, role, pathPrefixes } : { fingerprint: id.fingerprint, name: id.name, publicKeyArmored: id.publicKeyArmored, role };

/** Members sorted by fingerprint, as the encoding wants them. */
export const members = (...list: Member[]): Member[] => [...list].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Buffer => Buffer.from(s, 'hex');
