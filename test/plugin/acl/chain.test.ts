import fc from 'fast-check';
import { ManifestChain, ManifestIndex, checkTransition, encodeSignedManifest, manifestChange, manifestHash, signManifest, type ApplyResult, type ManifestVersion, type Member, type SignedManifest } from '../../../plugin/src/acl';
import { FOLDER, OTHER_FOLDER, loadIdentities, member, members, verifier, type Name, type TestIdentity } from '../../vectors/fixtures';

let ids: Record<Name, TestIdentity>;
let genesis: ManifestVersion;
let g: SignedManifest;

beforeAll(async () => {
  ids = await loadIdentities();
  const { alice, bob, carol, dave } = ids;
  genesis = {
    folder: FOLDER,
    name: 'chain test',
    version: 1,
    prev: null,
    author: alice.fingerprint,
    createdAtMs: 1,
    members: members(member(alice, 'admin'), member(bob, 'admin'), member(carol, 'writer', ['docs']), member(dave, 'writer')),
    revocations: [],
    ignoreRules: [],
  };
  g = await signManifest(alice.signer, genesis);
});

const chainOf = (genesisHash?: string) => new ManifestChain({ folder: FOLDER, verifier, keys: verifier, genesisHash });
/** The version after `prev`, signed by `who`, with `patch` applied. */
async function next(prev: ManifestVersion, who: TestIdentity, patch: Partial<ManifestVersion> = {}): Promise<SignedManifest> {
  return signManifest(who.signer, { ...prev, version: prev.version + 1, prev: manifestHash(prev), author: who.fingerprint, ...patch });
}
const status = (r: ApplyResult) => (r.status === 'refused' ? `refused:${r.reason}` : r.status);
const swapRow = (list: readonly Member[], row: Member) => members(...list.filter((m) => m.fingerprint !== row.fingerprint), row);

describe('ManifestChain', () => {
  it('applies a genesis signed by its creator, then versions signed by admins', async () => {
    const c = chainOf(manifestHash(genesis));
    expect(status(await c.apply(encodeSignedManifest(g)))).toBe('applied');
    const v2 = await next(genesis, ids.bob, { name: 'renamed' });
    const r = await c.apply(v2);
    expect(status(r)).toBe('applied');
    expect(c.head()?.manifest.name).toBe('renamed');
    expect(status(await c.apply(v2))).toBe('duplicate');
    expect(c.versions().map((v) => v.signed.manifest.version)).toEqual([1, 2]);
  });

  it('refuses a genesis whose signer is not an admin in it, or that is not the invited one', async () => {
    const bad = await signManifest(ids.carol.signer, { ...genesis, author: ids.carol.fingerprint });
    expect(status(await chainOf().apply(bad))).toBe('refused:SIGNER_NOT_ADMIN');
    const other = await signManifest(ids.alice.signer, { ...genesis, name: 'other' });
    expect(status(await chainOf(manifestHash(genesis)).apply(other))).toBe('refused:WRONG_GENESIS');
    expect(status(await chainOf().apply(await signManifest(ids.alice.signer, { ...genesis, folder: OTHER_FOLDER })))).toBe('refused:WRONG_FOLDER');
  });

  it.each([
    ['SIGNER_NOT_ADMIN', async () => next(genesis, ids.carol)],
    ['BAD_VERSION_NUMBER', async () => next(genesis, ids.alice, { version: 3 })],
    ['LAST_ADMIN', async () => next(genesis, ids.alice, { members: members(member(ids.alice, 'writer'), member(ids.bob, 'writer'), member(ids.carol, 'writer', ['docs']), member(ids.dave, 'writer')) })],
    ['LAST_ADMIN', async () => next(genesis, ids.alice, { revocations: [{ fingerprint: ids.alice.fingerprint, lastValidSeq: 5 }, { fingerprint: ids.bob.fingerprint, lastValidSeq: 5 }].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)) })],
    ['REVOCATION_UNKNOWN_MEMBER', async () => next(genesis, ids.alice, { revocations: [{ fingerprint: 'F'.repeat(40), lastValidSeq: 0 }] })],
    ['BAD_PATH_PREFIX', async () => next(genesis, ids.alice, { members: swapRow(genesis.members, member(ids.carol, 'writer', ['../etc'])) })],
    ['REVOKE_FIRST', async () => next(genesis, ids.alice, { members: genesis.members.filter((m) => m.fingerprint !== ids.dave.fingerprint) })],
    ['EARLIER_GRANT_MISSING', async () => next(genesis, ids.alice, { members: swapRow(genesis.members, member(ids.dave, 'reader')) })],
    ['EARLIER_GRANT_MISSING', async () => next(genesis, ids.alice, { members: swapRow(genesis.members, member(ids.dave, 'writer', ['docs'])) })],
    ['EARLIER_GRANT_CHANGED', async () => next(genesis, ids.alice, { members: swapRow(genesis.members, { ...member(ids.dave, 'writer', ['docs']), earlier: [{ untilSeq: 5, role: 'admin' }] }) })],
    ['BAD_MEMBER_KEY', async () => next(genesis, ids.alice, { members: swapRow(genesis.members, { ...member(ids.dave, 'writer'), publicKeyArmored: ids.carol.publicKeyArmored }) })],
    ['BAD_SIGNATURE', async () => ({ ...(await next(genesis, ids.alice)), signature: (await next(genesis, ids.alice, { name: 'x' })).signature })],
  ])('refuses %s', async (reason, make) => {
    const c = chainOf();
    await c.apply(g);
    const r = await c.apply(await make());
    expect(status(r)).toBe(`refused:${reason}`);
    expect(c.head()?.hash).toBe(manifestHash(genesis));
  });

  it('widening a grant needs no revocation; revocations stay, and revoked rows stay as they were', async () => {
    const c = chainOf();
    await c.apply(g);
    const wider = await next(genesis, ids.alice, { members: swapRow(genesis.members, member(ids.carol, 'writer', ['docs', 'photos'])) });
    expect(status(await c.apply(wider))).toBe('applied');
    const revoke = await next(wider.manifest, ids.alice, { revocations: [{ fingerprint: ids.dave.fingerprint, lastValidSeq: 7 }] });
    expect(status(await c.apply(revoke))).toBe('applied');
    expect(c.head()?.index.mayWrite(ids.dave.fingerprint, 'a', 8)).toMatchObject({ ok: false, reason: 'REVOKED' });
    expect(status(await c.apply(await next(revoke.manifest, ids.alice, { revocations: [] })))).toBe('refused:REVOCATION_CHANGED');
    expect(status(await c.apply(await next(revoke.manifest, ids.alice, { revocations: [{ fingerprint: ids.dave.fingerprint, lastValidSeq: 9 }] })))).toBe('refused:REVOCATION_CHANGED');
    expect(status(await c.apply(await next(revoke.manifest, ids.alice, { members: swapRow(revoke.manifest.members, member(ids.dave, 'admin')) })))).toBe('refused:REVOKED_MEMBER_CHANGED');
    // Revoking an admin takes away the right to sign the next version.
    const revokeBob = await next(revoke.manifest, ids.alice, { revocations: [...revoke.manifest.revocations, { fingerprint: ids.bob.fingerprint, lastValidSeq: 0 }].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)) });
    expect(status(await c.apply(revokeBob))).toBe('applied');
    expect(status(await c.apply(await next(revokeBob.manifest, ids.bob)))).toBe('refused:SIGNER_NOT_ADMIN');
  });

  it('narrowing, then demoting, a writer keeps their earlier entries valid and refuses new ones outside the new grant', async () => {
    const c = chainOf();
    await c.apply(g);
    const dave = ids.dave.fingerprint;
    // Issue 6: the admin narrows dave (who wrote seq 1..5 anywhere) to docs/.
    const narrowed = await next(genesis, ids.alice, { members: swapRow(genesis.members, { ...member(ids.dave, 'writer', ['docs']), earlier: [{ untilSeq: 5, role: 'writer' }] }) });
    expect(status(await c.apply(encodeSignedManifest(narrowed)))).toBe('applied');
    const verdict = (path: string, seq: number) => {
      const d = (c.head() as { index: ManifestIndex }).index.mayWrite(dave, path, seq);
      return d.ok ? 'ok' : d.reason;
    };
    expect([verdict('src/a', 5), verdict('docs/a', 5), verdict('src/a', 6), verdict('docs/a', 6)]).toEqual(['ok', 'ok', 'OUTSIDE_PATH_GRANT', 'ok']);
    // Then demotes him to reader after seq 8: entries up to 8 are judged by the grant they were written under.
    const demoted = await next(narrowed.manifest, ids.alice, {
      members: swapRow(narrowed.manifest.members, { ...member(ids.dave, 'reader'), earlier: [{ untilSeq: 5, role: 'writer' }, { untilSeq: 8, role: 'writer', pathPrefixes: ['docs'] }] }),
    });
    expect(status(await c.apply(encodeSignedManifest(demoted)))).toBe('applied');
    expect([verdict('src/a', 3), verdict('docs/a', 7), verdict('src/a', 7), verdict('docs/a', 9)]).toEqual(['ok', 'ok', 'OUTSIDE_PATH_GRANT', 'NOT_A_WRITER']);
    expect(manifestChange(narrowed.manifest, demoted.manifest)).toEqual({ cut: [{ author: dave, fromSeq: 9 }], narrowed: [dave], reopened: [] });
    // Narrowing again before the member wrote more: the same untilSeq is allowed.
    const promoted = await next(demoted.manifest, ids.alice, { members: swapRow(demoted.manifest.members, { ...member(ids.dave, 'writer', ['docs']), earlier: demoted.manifest.members.find((m) => m.fingerprint === dave)?.earlier }) });
    expect(status(await c.apply(promoted))).toBe('applied');
    const earlier = [{ untilSeq: 5, role: 'writer' as const }, { untilSeq: 8, role: 'writer' as const, pathPrefixes: ['docs'] }, { untilSeq: 8, role: 'writer' as const, pathPrefixes: ['docs'] }];
    expect(status(await c.apply(await next(promoted.manifest, ids.alice, { members: swapRow(promoted.manifest.members, { ...member(ids.dave, 'writer', ['docs/x']), earlier }) })))).toBe('applied');
  });

  it('refuses versions that rewrite, drop or invent earlier grants', async () => {
    const c = chainOf();
    await c.apply(g);
    const row = (earlier: Member['earlier'], role: Member['role'] = 'writer') => ({ ...member(ids.dave, role, role === 'writer' ? ['docs'] : undefined), earlier });
    const v2 = await next(genesis, ids.alice, { members: swapRow(genesis.members, row([{ untilSeq: 5, role: 'writer' }])) });
    expect(status(await c.apply(v2))).toBe('applied');
    const after = async (r: Member, patch: Partial<ManifestVersion> = {}) => status(await c.apply(await next(v2.manifest, ids.alice, { members: swapRow(v2.manifest.members, r), ...patch })));
    // Stretching the old grant over later entries, or forgetting it.
    expect(await after(row([{ untilSeq: 50, role: 'writer' }]))).toBe('refused:EARLIER_GRANT_CHANGED');
    expect(await after(row(undefined))).toBe('refused:EARLIER_GRANT_CHANGED');
    expect(await after(row([{ untilSeq: 5, role: 'admin' }]))).toBe('refused:EARLIER_GRANT_CHANGED');
    // A new record must be the grant held, end no earlier than the last, and come one per version.
    expect(await after(row([{ untilSeq: 5, role: 'writer' }, { untilSeq: 9, role: 'writer' }], 'reader'))).toBe('refused:EARLIER_GRANT_CHANGED');
    // Out of order: no encoder writes it, no decoder reads it, and the rules refuse it as data.
    const backwards = row([{ untilSeq: 5, role: 'writer' }, { untilSeq: 4, role: 'writer', pathPrefixes: ['docs'] }], 'reader');
    await expect(after(backwards)).rejects.toThrow('ordered by untilSeq');
    const asData = { ...v2.manifest, version: 3, prev: manifestHash(v2.manifest), members: swapRow(v2.manifest.members, backwards) };
    expect(checkTransition(new ManifestIndex(v2.manifest), asData)?.reason).toBe('EARLIER_GRANT_CHANGED');
    expect(await after(row([{ untilSeq: 5, role: 'writer' }, { untilSeq: 6, role: 'writer', pathPrefixes: ['docs'] }, { untilSeq: 7, role: 'writer', pathPrefixes: ['docs'] }], 'reader'))).toBe('refused:EARLIER_GRANT_CHANGED');
    expect(await after(row([{ untilSeq: 5, role: 'writer' }], 'reader'))).toBe('refused:EARLIER_GRANT_MISSING');
    // A new member can not bring grants for entries they never wrote under this manifest.
    expect(await after({ ...member(ids.dave, 'writer', ['docs']), earlier: [{ untilSeq: 5, role: 'writer' }] }, { members: members(...v2.manifest.members, { fingerprint: 'E'.repeat(40), name: 'eve', publicKeyArmored: 'not checked before the rules', role: 'reader', earlier: [{ untilSeq: 9, role: 'admin' }] }) })).toBe('refused:EARLIER_GRANT_CHANGED');
    // A demoted reader who wrote keeps their row; once revoked, their earlier grants are frozen too.
    const v3 = await next(v2.manifest, ids.alice, { members: swapRow(v2.manifest.members, row([{ untilSeq: 5, role: 'writer' }, { untilSeq: 7, role: 'writer', pathPrefixes: ['docs'] }], 'reader')) });
    expect(status(await c.apply(v3))).toBe('applied');
    expect(status(await c.apply(await next(v3.manifest, ids.alice, { members: v3.manifest.members.filter((m) => m.fingerprint !== ids.dave.fingerprint) })))).toBe('refused:REVOKE_FIRST');
    const v4 = await next(v3.manifest, ids.alice, { revocations: [{ fingerprint: ids.dave.fingerprint, lastValidSeq: 7 }] });
    expect(status(await c.apply(v4))).toBe('applied');
    expect(status(await c.apply(await next(v4.manifest, ids.alice, { members: swapRow(v4.manifest.members, row([{ untilSeq: 5, role: 'writer' }], 'reader')) })))).toBe('refused:REVOKED_MEMBER_CHANGED');
    expect(c.head()?.hash).toBe(manifestHash(v4.manifest));
  });

  it('holds a version until its prev arrives, then applies both; refuses children of refused versions', async () => {
    const c = chainOf();
    const v2 = await next(genesis, ids.alice, { name: 'two' });
    const v3 = await next(v2.manifest, ids.bob, { name: 'three' });
    expect(await c.apply(v3)).toMatchObject({ status: 'pending', missing: manifestHash(v2.manifest) });
    expect(await c.apply(v2)).toMatchObject({ status: 'pending', missing: manifestHash(genesis) });
    const r = await c.apply(g);
    expect(status(r)).toBe('applied');
    expect(r.status === 'applied' && r.unlocked.map(status)).toEqual(['applied']);
    expect(c.head()?.manifest.name).toBe('three');
    const bad = await next(genesis, ids.carol);
    await c.apply(bad);
    expect(status(await c.apply(await next(bad.manifest, ids.alice)))).toBe('refused:PREV_REFUSED');
    // A version already waiting when its prev is refused is refused with it.
    const c2 = chainOf();
    await c2.apply(g);
    const orphan = await next(bad.manifest, ids.alice, { name: 'orphan' });
    expect(status(await c2.apply(orphan))).toBe('pending');
    await c2.apply(bad);
    expect(status(await c2.apply(orphan))).toBe('refused:PREV_REFUSED');
  });

  it('flipping a byte of a signed version never gets a different version applied', async () => {
    const v2 = await next(genesis, ids.alice, { name: 'tamper me' });
    const bytes = encodeSignedManifest(v2);
    const genuine = manifestHash(v2.manifest);
    const outcomes = new Set<string>();
    // Every byte of the header, the fields and the signature; every 17th inside the armored keys.
    const positions = [...Array(bytes.length).keys()].filter((i) => i < 160 || i >= bytes.length - 200 || i % 17 === 0);
    for (const i of positions) {
      const c = chainOf();
      await c.apply(g);
      const t = Buffer.from(bytes);
      t[i] ^= 0x01;
      const r = await c.apply(t);
      outcomes.add(status(r));
      // OpenPGP framing outside the signed data may change; the applied content may not.
      if (r.status === 'applied') expect([i, r.hash]).toEqual([i, genuine]);
    }
    expect(outcomes.has('refused:DECODE')).toBe(true);
    expect(outcomes.has('refused:BAD_SIGNATURE')).toBe(true);
  });

  it('stops when its signal is aborted, and applies nothing', async () => {
    const c = chainOf();
    const ac = new AbortController();
    ac.abort();
    await expect(c.apply(g, ac.signal)).rejects.toThrow();
    expect(c.head()).toBeUndefined();
  });

  it('a forged copy arriving first does not block the genuine version with the same content', async () => {
    const c = chainOf();
    await c.apply(g);
    const genuine = await next(genesis, ids.alice, { name: 'genuine' });
    const forged = { ...genuine, signature: (await next(genesis, ids.bob, { name: 'genuine' })).signature };
    expect(status(await c.apply(forged))).toBe('refused:BAD_SIGNATURE');
    expect(status(await c.apply(genuine))).toBe('applied');
  });

  it('two admins editing at once: the signer that sorts first wins everywhere, the other is reported overruled', async () => {
    const byAlice = await next(genesis, ids.alice, { ignoreRules: ['*.tmp'] });
    const byBob = await next(genesis, ids.bob, { name: 'bob was here' });
    const first = [ids.alice, ids.bob].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1))[0];
    const [winner, loser] = first === ids.alice ? [byAlice, byBob] : [byBob, byAlice];
    for (const order of [[byAlice, byBob], [byBob, byAlice]]) {
      const c = chainOf();
      await c.apply(g);
      const r1 = await c.apply(order[0]);
      const r2 = await c.apply(order[1]);
      expect(c.head()?.hash).toBe(manifestHash(winner.manifest));
      expect(c.overruled()).toEqual([{ hash: manifestHash(loser.manifest), manifest: loser.manifest, by: manifestHash(winner.manifest) }]);
      const reported = [r1, r2].flatMap((r) => (r.status === 'applied' ? r.newlyOverruled.map((o) => o.hash) : []));
      expect(reported).toEqual([manifestHash(loser.manifest)]);
    }
  });
});

/** Narrows carol to docs/, recording the grant she held until `untilSeq`. */
function narrowCarol(parent: ManifestVersion, untilSeq: number): Partial<ManifestVersion> {
  const row = parent.members.find((m) => m.fingerprint === ids.carol.fingerprint) as Member;
  const held = { untilSeq, role: row.role, ...(row.pathPrefixes ? { pathPrefixes: row.pathPrefixes } : {}) };
  return { members: swapRow(parent.members, { ...member(ids.carol, 'writer', ['docs']), earlier: [...(row.earlier ?? []), held] }) };
}

describe('ManifestChain convergence', () => {
  /** A fixed pool of versions: a tree of concurrent admin edits, plus some that must be refused. */
  let pool: SignedManifest[];
  beforeAll(async () => {
    const { alice, bob, carol, dave } = ids;
    const rand = (() => {
      let s = 12345;
      return (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    })();
    const valid: ManifestVersion[] = [genesis];
    pool = [g];
    const admins = [alice, bob];
    for (let i = 0; i < 20; i++) {
      const parent = valid[rand(valid.length)];
      const who = i % 5 === 4 ? carol : admins[rand(2)];
      const edits: Partial<ManifestVersion>[] = [
        { name: `name ${i}` },
        { ignoreRules: [`*.${i}`] },
        { members: swapRow(parent.members, member(carol, 'writer', ['docs', `extra${i}`].sort())) },
        { revocations: parent.revocations.length ? parent.revocations : [{ fingerprint: dave.fingerprint, lastValidSeq: i }] },
        narrowCarol(parent, 10 * i),
      ];
      const s = await next(parent, who, { ...edits[rand(edits.length)], createdAtMs: i });
      pool.push(s);
      if (who !== carol) valid.push(s.manifest);
    }
  });

  it('random interleavings of the same versions give every replica the same head and overruled list', async () => {
    const outcome = async (order: SignedManifest[]) => {
      const c = chainOf();
      for (const s of order) await c.apply(encodeSignedManifest(s));
      return {
        carolEarlier: c.head()?.index.member(ids.carol.fingerprint)?.earlier?.length ?? 0, head: c.head()?.hash, overruled: c.overruled().map((o) => [o.hash, o.by]), versions: c.versions().map((v) => v.hash).sort() };
    };
    const reference = await outcome(pool);
    expect(reference.overruled.length).toBeGreaterThan(2);
    expect(reference.versions.length).toBeLessThan(pool.length); // some versions are refused
    // Some narrowings with an earlier grant are applied (not all: some lose carol's grant without one).
    const narrowing = pool.filter((s) => (s.manifest.members.find((m) => m.fingerprint === ids.carol.fingerprint)?.earlier ?? []).length > 0).map((s) => manifestHash(s.manifest));
    expect(narrowing.filter((h) => reference.versions.includes(h)).length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), async (order) => {
        expect(await outcome(order)).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });
});
