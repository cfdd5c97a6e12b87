import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { CERT_PREFIX, DevhostError, parseCertificate } from '../../../host-bridge/src/devhost';
import { NodeFixture, waitPeerOnline } from './helpers';

describe('devhost identity, certificate, friends', () => {
  const fx = new NodeFixture();
  afterAll(() => fx.cleanup());

  test('first start creates an ed25519 key (0600 in a 0700 dir) and a location id; later starts load them', async () => {
    const dir = await fx.dir();
    const n1 = await fx.node('Alice', { dataDir: dir }, false);
    const self = n1.self();
    expect(self.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(self.locationId).toMatch(/^[0-9a-f]{32}$/);
    expect(self.keyAlgorithm).toBe('ed25519');
    expect(self.displayName).toBe('Alice');
    expect((await fs.stat(path.join(dir, 'identity', 'key.asc'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dir, 'identity'))).mode & 0o777).toBe(0o700);
    const key = await openpgp.readKey({ armoredKey: self.publicKeyArmored });
    expect(key.isPrivate()).toBe(false);
    await n1.stop();
    const n2 = await fx.node('ignored on reload', { dataDir: dir }, false);
    expect(n2.self()).toEqual(self);
  });

  test('a private key readable by others is refused', async () => {
    const dir = await fx.dir();
    await fx.node('Alice', { dataDir: dir }, false);
    await fs.chmod(path.join(dir, 'identity', 'key.asc'), 0o644);
    await expect(fx.node('Alice', { dataDir: dir }, false)).rejects.toMatchObject({ code: 'IDENTITY_INVALID' });
  });

  test('certificate round trip, and its signature verifies with the carried key', async () => {
    const alice = await fx.node('Alice');
    const cert = alice.certificate();
    expect(cert.startsWith(CERT_PREFIX)).toBe(true);
    const parsed = await parseCertificate(cert);
    expect(parsed).toMatchObject({ fingerprint: alice.self().fingerprint, name: 'Alice', locationId: alice.self().locationId, address: alice.listenAddress });
  });

  test('a tampered certificate is refused with CERT_INVALID', async () => {
    const alice = await fx.node('Alice', {}, true);
    const raw = Buffer.from(alice.certificate().slice(CERT_PREFIX.length), 'base64url');
    // Flip one byte inside the name field (after the u32 length and the context string).
    const nameAt = 4 + 'KINFOLDER-DEVHOST-CERT-V1\0'.length + 4;
    const tampered = Buffer.from(raw);
    tampered[nameAt] ^= 0x01;
    const err = await parseCertificate(CERT_PREFIX + tampered.toString('base64url')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevhostError);
    expect(err).toMatchObject({ code: 'CERT_INVALID', reason: 'signature' });
    // Flipping a byte in the signature fails too.
    const badSig = Buffer.from(raw);
    badSig[badSig.length - 3] ^= 0x01;
    await expect(parseCertificate(CERT_PREFIX + badSig.toString('base64url'))).rejects.toMatchObject({ code: 'CERT_INVALID' });
    await expect(parseCertificate('kfcert2:abc')).rejects.toMatchObject({ code: 'CERT_INVALID', reason: 'prefix' });
    await expect(parseCertificate(`${CERT_PREFIX}!!!`)).rejects.toMatchObject({ code: 'CERT_INVALID', reason: 'encoding' });
    await expect(parseCertificate(CERT_PREFIX + raw.subarray(0, 40).toString('base64url'))).rejects.toMatchObject({ code: 'CERT_INVALID', reason: 'truncated' });
    await expect(alice.addFriend(CERT_PREFIX + tampered.toString('base64url'))).rejects.toMatchObject({ code: 'CERT_INVALID' });
  });

  test('friends persist across restarts; adding yourself is refused; removing emits removed', async () => {
    const dir = await fx.dir();
    const alice = await fx.node('Alice', { dataDir: dir });
    const bob = await fx.node('Bob');
    await expect(alice.addFriend(alice.certificate())).rejects.toMatchObject({ code: 'SELF_FRIEND' });
    const added = await alice.addFriend(bob.certificate());
    expect(added).toMatchObject({ fingerprint: bob.self().fingerprint, name: 'Bob' });
    const file = JSON.parse(await fs.readFile(path.join(dir, 'friends.json'), 'utf8'));
    expect(file.friends.map((f: { fingerprint: string }) => f.fingerprint)).toEqual([bob.self().fingerprint]);
    await alice.stop();
    const again = await fx.node('Alice', { dataDir: dir });
    expect(again.friends().map((f) => f.name)).toEqual(['Bob']);
    const events: string[] = [];
    again.peerEvents.subscribe((e) => events.push(e.kind));
    await again.removeFriend(bob.self().fingerprint);
    expect(again.peers()).toEqual([]);
    expect(events).toContain('removed');
    await expect(again.removeFriend(bob.self().fingerprint)).rejects.toMatchObject({ code: 'NOT_A_FRIEND' });
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('an RSA 3072 identity works end to end (key, certificate, link)', async () => {
    const rsa = await fx.node('Rex', { keyType: 'rsa3072' });
    expect(rsa.self().keyAlgorithm).toBe('rsa3072');
    const ed = await fx.node('Eddie');
    await rsa.addFriend(ed.certificate());
    await ed.addFriend(rsa.certificate());
    const got = new Promise((resolve) => ed.linkMessages('svc').subscribe(resolve));
    await waitPeerOnline(rsa, ed.self().fingerprint);
    await rsa.sendLink(ed.self().fingerprint, 'svc', Buffer.from('rsa says hi'));
    expect(await got).toMatchObject({ peer: rsa.self().fingerprint, payload: Buffer.from('rsa says hi') });
  }, 120_000);
});
