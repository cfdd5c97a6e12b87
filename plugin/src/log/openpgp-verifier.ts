/**
 * The one place the log touches openpgp: a SignatureVerifier (and KeyInspector) over real
 * OpenPGP keys, Ed25519 and RSA alike. Parsed keys are cached by their armored text.
 *
 * Signatures made through the host's `Identity.Sign` are over
 * `pluginSignedMessage(pluginId, bytes)`, not over the bytes: pass that as `wrap` and the
 * same checks accept host-made signatures (and only those).
 */
import * as openpgp from 'openpgp';
import type { SignatureVerifier } from './types';

export interface OpenpgpVerifierOptions {
  /** Turns the bytes the log signs into the bytes the signer actually signed. */
  readonly wrap?: (message: Uint8Array) => Uint8Array;
  /** Keys kept parsed; the least recently used are dropped beyond this. */
  readonly maxCachedKeys?: number;
  /**
   * openpgp settings for verification, e.g. to accept SHA-1 message signatures from an
   * old host (openpgp 6 refuses them by default): `{ rejectMessageHashAlgorithms: new Set() }`.
   */
  readonly config?: Partial<openpgp.Config>;
}

export class OpenpgpVerifier implements SignatureVerifier {
  private readonly keys = new Map<string, Promise<openpgp.Key | null>>();

  constructor(private readonly opts: OpenpgpVerifierOptions = {}) {}

  private key(armored: string): Promise<openpgp.Key | null> {
    let k = this.keys.get(armored);
    if (k) {
      this.keys.delete(armored); // re-insert: Map order is the LRU order
    } else {
      k = openpgp.readKey({ armoredKey: armored }).catch(() => null);
    }
    this.keys.set(armored, k);
    const max = this.opts.maxCachedKeys ?? 1024;
    while (this.keys.size > max) this.keys.delete(this.keys.keys().next().value as string);
    return k;
  }

  async verify(publicKeyArmored: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const key = await this.key(publicKeyArmored);
    if (!key) return false;
    try {
      const bytes = this.opts.wrap ? this.opts.wrap(message) : message;
      const result = await openpgp.verify({
        message: await openpgp.createMessage({ binary: bytes }),
        signature: await openpgp.readSignature({ binarySignature: signature }),
        verificationKeys: key,
        expectSigned: true,
        config: this.opts.config,
      });
      // One signature packet, by this key: extra packets could smuggle in a second signer.
      if (result.signatures.length !== 1) return false;
      await result.signatures[0].verified;
      return true;
    } catch {
      return false;
    }
  }

  /** The key's fingerprint as the manifest writes it (40 upper-case hex). */
  async fingerprintOf(publicKeyArmored: string): Promise<string> {
    const key = await this.key(publicKeyArmored);
    if (!key) throw new Error('unreadable public key');
    return key.getFingerprint().toUpperCase();
  }
}
