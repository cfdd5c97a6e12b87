/** Signing a manifest version with the local identity (an admin of its prev, or the creator). */
import type { Signer } from '../log/types';
import { manifestSigningBytes } from './encoding';
import type { ManifestVersion, SignedManifest } from './types';

export async function signManifest(signer: Signer, manifest: ManifestVersion): Promise<SignedManifest> {
  return { manifest, signature: await signer.sign(manifestSigningBytes(manifest)) };
}
