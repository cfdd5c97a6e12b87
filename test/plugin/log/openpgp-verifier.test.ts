import { pluginSignedMessage } from '../../../proto';
import { OpenpgpVerifier } from '../../../plugin/src/log/openpgp-verifier';
import { checkpointSigningBytes } from '../../../plugin/src/log';
import { signDetached } from '../../../host-bridge/src/devhost/pgp';
import { loadIdentities, signerFor, type Name, type TestIdentity } from '../../vectors/fixtures';

let ids: Record<Name, TestIdentity>;
beforeAll(async () => {
  ids = await loadIdentities();
});

const msg = Buffer.from('KINFOLDER-CHECKPOINT-V1\0some bytes');

describe('OpenpgpVerifier', () => {
  it.each(['alice', 'bob'] as const)('verifies a detached signature by %s (Ed25519 and RSA) and refuses it for other bytes or keys', async (name) => {
    const v = new OpenpgpVerifier();
    const id = ids[name];
    const sig = await id.signer.sign(msg);
    expect(await v.verify(id.publicKeyArmored, msg, sig)).toBe(true);
    expect(await v.verify(id.publicKeyArmored, Buffer.concat([msg, Buffer.from([0])]), sig)).toBe(false);
    expect(await v.verify(ids.carol.publicKeyArmored, msg, sig)).toBe(false);
  });

  it('refuses garbage signatures and unreadable keys without throwing', async () => {
    const v = new OpenpgpVerifier();
    const sig = await ids.alice.signer.sign(msg);
    expect(await v.verify(ids.alice.publicKeyArmored, msg, Buffer.from('not a signature'))).toBe(false);
    expect(await v.verify(ids.alice.publicKeyArmored, msg, new Uint8Array())).toBe(false);
    expect(await v.verify('not a key', msg, sig)).toBe(false);
    await expect(v.fingerprintOf('not a key')).rejects.toThrow();
  });

  it('refuses when one bit of the signed bytes or of the signature values is flipped', async () => {
    const v = new OpenpgpVerifier();
    const sig = await ids.alice.signer.sign(msg);
    for (let i = 0; i < msg.length; i++) {
      const t = Buffer.from(msg);
      t[i] ^= 0x04;
      expect([i, await v.verify(ids.alice.publicKeyArmored, t, sig)]).toEqual([i, false]);
    }
    // Ed25519's r and s are the last 2 x 32 bytes (each behind a 2-byte bit count). OpenPGP
    // leaves some framing bytes (bit counts, unhashed subpackets) outside the signature, so
    // nothing in Kinfolder hashes signature bytes: identities hash the signed fields only.
    for (let i = sig.length - 64; i < sig.length; i++) {
      if (i === sig.length - 34 || i === sig.length - 33) continue; // s's bit count
      const t = Uint8Array.from(sig);
      t[i] ^= 0x04;
      expect([i, await v.verify(ids.alice.publicKeyArmored, msg, t)]).toEqual([i, false]);
    }
  });

  it('checks host-made signatures over the plugin-bound message when given the wrap', async () => {
    const wrap = (b: Uint8Array) => pluginSignedMessage('kinfolder', b);
    const hostSig = await signerFor(ids.bob.privateKey, wrap).sign(msg);
    expect(await new OpenpgpVerifier({ wrap }).verify(ids.bob.publicKeyArmored, msg, hostSig)).toBe(true);
    expect(await new OpenpgpVerifier().verify(ids.bob.publicKeyArmored, msg, hostSig)).toBe(false);
    // A raw signature over the bytes is not a host-made one.
    expect(await new OpenpgpVerifier({ wrap }).verify(ids.bob.publicKeyArmored, msg, await ids.bob.signer.sign(msg))).toBe(false);
  });

  it('accepts a checkpoint signed the way the devhost signs for Identity.Sign (salted, plugin-bound)', async () => {
    const bytes = checkpointSigningBytes({ folder: '00'.repeat(16), author: ids.bob.fingerprint, seq: 7, entryHash: 'ab'.repeat(32) });
    const hostSig = await signDetached(ids.bob.privateKey, pluginSignedMessage('kinfolder', bytes));
    expect(await new OpenpgpVerifier({ wrap: (b) => pluginSignedMessage('kinfolder', b) }).verify(ids.bob.publicKeyArmored, bytes, hostSig)).toBe(true);
  });

  it('reads fingerprints as the manifest writes them, and keeps a bounded key cache', async () => {
    const v = new OpenpgpVerifier({ maxCachedKeys: 2 });
    for (const id of Object.values(ids)) expect(await v.fingerprintOf(id.publicKeyArmored)).toBe(id.fingerprint);
    expect(await v.verify(ids.alice.publicKeyArmored, msg, await ids.alice.signer.sign(msg))).toBe(true);
  });
});
