/** Thin OpenPGP helpers: detached binary signatures, their verification, fingerprint format. */
import * as openpgp from 'openpgp';

/** 40 upper-case hex, the form HostSelf and HostPeer use. */
export const fingerprintOf = (key: openpgp.Key): string => key.getFingerprint().toUpperCase();

export async function signDetached(key: openpgp.PrivateKey, message: Uint8Array): Promise<Uint8Array> {
  const sig = await openpgp.sign({
    message: await openpgp.createMessage({ binary: message }),
    signingKeys: key,
    detached: true,
    format: 'binary',
  });
  return sig as Uint8Array;
}

/** True only for exactly one valid signature by `key` over `message`; never throws. */
export async function verifyDetached(key: openpgp.Key, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    const result = await openpgp.verify({
      message: await openpgp.createMessage({ binary: message }),
      signature: await openpgp.readSignature({ binarySignature: signature }),
      verificationKeys: key,
      format: 'binary',
    });
    if (result.signatures.length !== 1) return false;
    return (await result.signatures[0].verified) === true;
  } catch {
    return false;
  }
}

export function keyAlgorithmName(key: openpgp.Key): string {
  const info = key.getAlgorithmInfo() as { algorithm: string; bits?: number; curve?: string };
  if (info.algorithm === 'eddsaLegacy' || info.algorithm === 'ed25519') return 'ed25519';
  if (info.algorithm.startsWith('rsa')) return `rsa${info.bits ?? ''}`;
  return info.curve ? `${info.algorithm}-${info.curve}` : info.algorithm;
}
