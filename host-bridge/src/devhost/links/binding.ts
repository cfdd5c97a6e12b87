/**
 * The binding of a node's TLS key to its PGP key: a PGP detached signature over
 *   "KINFOLDER-DEVHOST-TLS-BINDING-V1\0" | sha256(SPKI DER of the TLS certificate) (32 bytes) | location id (ASCII)
 * A peer's link is accepted only if this verifies with the friend's PGP key over the SPKI
 * of the certificate that the peer actually presented in the TLS handshake.
 */
import type * as openpgp from 'openpgp';
import type { Identity } from '../identity';
import { verifyDetached } from '../pgp';

const BINDING_CONTEXT = Buffer.from('KINFOLDER-DEVHOST-TLS-BINDING-V1\0', 'utf8');

export function bindingMessage(spkiSha256: Uint8Array, locationId: string): Buffer {
  if (spkiSha256.length !== 32) throw new Error('spki hash must be 32 bytes');
  return Buffer.concat([BINDING_CONTEXT, spkiSha256, Buffer.from(locationId, 'ascii')]);
}

export async function signBinding(identity: Pick<Identity, 'sign' | 'locationId'>, spkiSha256: Uint8Array): Promise<Buffer> {
  return Buffer.from(await identity.sign(bindingMessage(spkiSha256, identity.locationId)));
}

export function verifyBinding(key: openpgp.Key, spkiSha256: Uint8Array, locationId: string, signature: Uint8Array): Promise<boolean> {
  return verifyDetached(key, bindingMessage(spkiSha256, locationId), signature);
}
