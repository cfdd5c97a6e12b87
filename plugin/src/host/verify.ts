/** Checks a signature the host made through Identity.Sign: right key, right plugin, right bytes. */
import * as openpgp from 'openpgp';
import { pluginSignedMessage } from '../../../proto';

export interface HostSignatureCheck {
  publicKeyArmored: string;
  pluginId: string;
  payload: Uint8Array;
  /** Binary detached signature, or the same ASCII-armored. */
  signature: Uint8Array | string;
}

/** True only when `signature` is the key's valid signature over the plugin-bound message; false on any mismatch or malformed input. */
export async function verifyHostSignature(check: HostSignatureCheck): Promise<boolean> {
  try {
    const key = await openpgp.readKey({ armoredKey: check.publicKeyArmored });
    const signature =
      typeof check.signature === 'string'
        ? await openpgp.readSignature({ armoredSignature: check.signature })
        : await openpgp.readSignature({ binarySignature: check.signature });
    const message = await openpgp.createMessage({ binary: pluginSignedMessage(check.pluginId, check.payload) });
    const result = await openpgp.verify({ message, signature, verificationKeys: key, format: 'binary' });
    if (result.signatures.length === 0) return false;
    for (const s of result.signatures) await s.verified; // throws on a bad or foreign signature
    return true;
  } catch {
    return false;
  }
}
