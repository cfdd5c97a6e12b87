import { ManifestChain, canonicalManifest, encodeManifest, genesis, manifestHash, nextVersion, signManifest } from '../../../plugin/src/acl';
import { FOLDER, loadIdentities, verifier } from '../../vectors/fixtures';

describe('building manifest versions', () => {
  it('builds a genesis and edits in canonical order that the chain accepts', async () => {
    const { alice, bob, carol, dave } = await loadIdentities();
    const row = (id: typeof alice) => ({ fingerprint: id.fingerprint, name: id.name, publicKeyArmored: id.publicKeyArmored });
    const g = genesis({ folder: FOLDER, name: 'f', creator: row(alice), createdAtMs: 1, members: [{ ...row(dave), role: 'writer', pathPrefixes: ['z', 'a', 'a'] }, { ...row(bob), role: 'reader' }] });
    expect(g.members.map((m) => m.fingerprint)).toEqual([alice, bob, dave].map((x) => x.fingerprint).sort());
    expect(g.members.find((m) => m.fingerprint === dave.fingerprint)?.pathPrefixes).toEqual(['a', 'z']);
    expect(() => encodeManifest(g)).not.toThrow();
    const v2 = nextVersion(g, alice.fingerprint, 2, { upsert: [{ ...row(carol), role: 'admin' }], remove: [bob.fingerprint], revoke: [{ fingerprint: dave.fingerprint, lastValidSeq: 3 }], name: 'renamed' });
    expect(v2).toMatchObject({ version: 2, prev: manifestHash(g), name: 'renamed', revocations: [{ fingerprint: dave.fingerprint, lastValidSeq: 3 }] });
    expect(v2.members.some((m) => m.fingerprint === bob.fingerprint)).toBe(false);
    const chain = new ManifestChain({ folder: FOLDER, verifier, keys: verifier });
    expect((await chain.apply(await signManifest(alice.signer, g))).status).toBe('applied');
    expect((await chain.apply(await signManifest(alice.signer, v2))).status).toBe('applied');
    expect(chain.head()?.index.isActiveAdmin(carol.fingerprint)).toBe(true);
  });

  it('canonicalManifest is idempotent and keeps the last row per fingerprint', () => {
    const m = genesis({ folder: FOLDER, name: 'x', creator: { fingerprint: 'B'.repeat(40), name: 'b', publicKeyArmored: 'k' }, createdAtMs: 0 });
    const twice = canonicalManifest({ ...m, members: [...m.members, { fingerprint: 'A'.repeat(40), name: 'a1', publicKeyArmored: 'k', role: 'reader' }, { fingerprint: 'A'.repeat(40), name: 'a2', publicKeyArmored: 'k', role: 'reader' }] });
    expect(twice.members.map((x) => x.name)).toEqual(['a2', 'b']);
    expect(canonicalManifest(twice)).toEqual(twice);
  });
});
