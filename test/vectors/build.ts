/**
 * Builds the checked-in vectors (test/vectors/log.json, acl.json) from fixed inputs. The
 * generator writes what this returns; the vector test rebuilds it and compares byte for byte.
 */
import { encodeCheckpoint, checkpointSigningBytes, hashEntry, nextEntry, signCheckpoint, validateFeed, FolderState, decodeEntry, DecodeError } from '../../plugin/src/log';
import type { Checkpoint, Entry, FeedTip, HashedEntry, WriteAuthority } from '../../plugin/src/log';
import { ManifestChain, encodeManifest, encodeSignedManifest, manifestHash, manifestSigningBytes, signManifest, mayWrite, ManifestIndex } from '../../plugin/src/acl';
import type { ManifestVersion, SignedManifest } from '../../plugin/src/acl';
import { FOLDER, fileMeta, hex, loadIdentities, member, members, verifier, type TestIdentity } from './fixtures';

const tipOf = (e: HashedEntry): FeedTip => ({ seq: e.entry.seq, hash: e.hash, lamport: e.entry.lamport });

function entryVector(name: string, e: HashedEntry) {
  return { name, entry: e.entry, bytes: hex(e.bytes), hash: e.hash };
}

async function checkpointVector(name: string, cp: Checkpoint, signer: string) {
  const valid = await verifier.verify((await loadIdentities())[signer as 'alice'].publicKeyArmored, checkpointSigningBytes(cp), cp.signature);
  return {
    name,
    signer,
    checkpoint: { folder: cp.folder, author: cp.author, seq: cp.seq, entryHash: cp.entryHash, signature: hex(cp.signature) },
    signingBytes: hex(checkpointSigningBytes(cp)),
    bytes: hex(encodeCheckpoint(cp)),
    verdict: valid ? 'VALID' : 'BAD_SIGNATURE',
  };
}

/** The fixed manifests: genesis, a promotion, two concurrent edits, then a narrowing that keeps the earlier grant. */
export async function buildManifests(): Promise<{ name: string; signed: SignedManifest }[]> {
  const { alice, bob, carol, dave } = await loadIdentities();
  const genesis: ManifestVersion = {
    folder: FOLDER,
    name: 'Family photos',
    version: 1,
    prev: null,
    author: alice.fingerprint,
    createdAtMs: 1_750_000_000_000,
    members: members(member(alice, 'admin'), member(bob, 'writer'), member(carol, 'writer', ['docs']), member(dave, 'reader')),
    revocations: [],
    ignoreRules: ['*.tmp', '!keep.tmp'],
  };
  const g = await signManifest(alice.signer, genesis);
  const v2: ManifestVersion = { ...genesis, version: 2, prev: manifestHash(genesis), createdAtMs: 1_750_000_100_000, members: members(member(alice, 'admin'), member(bob, 'admin'), member(carol, 'writer', ['docs']), member(dave, 'reader')) };
  const s2 = await signManifest(alice.signer, v2);
  // Concurrent: bob revokes dave's (empty) writes and adds nothing; alice changes the ignore rules.
  const v3bob: ManifestVersion = { ...v2, version: 3, prev: manifestHash(v2), author: bob.fingerprint, createdAtMs: 1_750_000_200_000, revocations: [{ fingerprint: dave.fingerprint, lastValidSeq: 0 }] };
  const v3alice: ManifestVersion = { ...v2, version: 3, prev: manifestHash(v2), author: alice.fingerprint, createdAtMs: 1_750_000_200_001, ignoreRules: ['*.tmp'] };
  const v4: ManifestVersion = { ...v3bob, version: 4, prev: manifestHash(v3bob), createdAtMs: 1_750_000_300_000 };
  return [
    { name: 'genesis', signed: g },
    { name: 'v2-bob-promoted', signed: s2 },
    { name: 'v3-bob-revokes-dave', signed: await signManifest(bob.signer, v3bob) },
    { name: 'v3-alice-ignore-rules', signed: await signManifest(alice.signer, v3alice) },
    { name: 'bad-signature', signed: { manifest: { ...v2, createdAtMs: v2.createdAtMs + 5 }, signature: (await signManifest(alice.signer, v2)).signature } },
    { name: 'signer-not-admin', signed: await signManifest(carol.signer, { ...v2, author: carol.fingerprint }) },
    { name: 'last-admin-removed', signed: await signManifest(alice.signer, { ...v2, members: members(member(alice, 'writer'), member(bob, 'writer'), member(carol, 'writer', ['docs']), member(dave, 'reader')) }) },
    // Bob narrows carol to docs/public after her seq 3: her entries up to 3 keep docs/.
    { name: 'v4-bob-narrows-carol', signed: await signManifest(bob.signer, { ...v4, members: members(member(alice, 'admin'), member(bob, 'admin'), { ...member(carol, 'writer', ['docs/public']), earlier: [{ untilSeq: 3, role: 'writer', pathPrefixes: ['docs'] }] }, member(dave, 'reader')) }) },
    { name: 'narrow-without-earlier', signed: await signManifest(bob.signer, { ...v4, members: members(member(alice, 'admin'), member(bob, 'admin'), member(carol, 'writer', ['docs/public']), member(dave, 'reader')) }) },
  ];
}

export async function buildAclVectors() {
  const { alice, bob, carol, dave } = await loadIdentities();
  const list = await buildManifests();
  const manifests = list.map(({ name, signed }) => ({
    name,
    manifest: signed.manifest,
    bytes: hex(encodeManifest(signed.manifest)),
    hash: manifestHash(signed.manifest),
    signingBytes: hex(manifestSigningBytes(signed.manifest)),
    signed: hex(encodeSignedManifest(signed)),
  }));
  // Deliver in a scrambled order: every node must end at the same head.
  const order = [3, 7, 6, 2, 0, 4, 5, 1, 8];
  const chain = new ManifestChain({ folder: FOLDER, verifier, keys: verifier });
  const results: { name: string; status: string; reason?: string }[] = [];
  const statusOf = new Map<string, { status: string; reason?: string }>();
  const record = (r: Awaited<ReturnType<ManifestChain['apply']>>): void => {
    const name = manifests.find((m) => m.hash === r.hash)?.name ?? '?';
    statusOf.set(name, r.status === 'refused' ? { status: r.status, reason: r.reason } : { status: r.status });
    if (r.status === 'applied') r.unlocked.forEach(record);
  };
  for (const i of order) record(await chain.apply(Buffer.from(manifests[i].signed, 'hex')));
  for (const m of manifests) results.push({ name: m.name, ...(statusOf.get(m.name) ?? { status: 'missing' }) });
  const head = chain.head()!;
  const decisions = [
    [alice, 'any/where.txt', 1],
    [bob, 'photos/a.jpg', 7],
    [carol, 'docs/plan.md', 3],
    [carol, 'docsx/plan.md', 3],
    [carol, 'docs', 3],
    [carol, 'docs/plan.md', 4],
    [carol, 'docs/public/plan.md', 4],
    [dave, 'docs/plan.md', 1],
    [{ fingerprint: '0000000000000000000000000000000000000000' }, 'a', 1],
  ].map(([who, path, seq]) => ({ author: (who as TestIdentity).fingerprint, path, seq, decision: mayWrite(head.index, (who as TestIdentity).fingerprint, path as string, seq as number) }));
  return {
    manifests,
    chain: {
      deliveryOrder: order.map((i) => manifests[i].name),
      results,
      head: manifests.find((m) => m.hash === head.hash)?.name,
      headHash: head.hash,
      overruled: chain.overruled().map((o) => ({ name: manifests.find((m) => m.hash === o.hash)?.name, by: manifests.find((m) => m.hash === o.by)?.name })),
    },
    decisions,
  };
}

export async function buildLogVectors() {
  const ids = await loadIdentities();
  const { bob, carol, dave } = ids;
  const chainList = await buildManifests();
  const authority: WriteAuthority = new ManifestIndex(chainList[0].signed.manifest);
  const T = 1_750_000_000_000;
  const b1 = nextEntry(null, { folder: FOLDER, author: bob.fingerprint, wallTimeMs: T, body: { op: 'put', path: 'docs/readme.md', meta: fileMeta('readme', 1000) }, parents: [] });
  const b2 = nextEntry(tipOf(b1), { folder: FOLDER, author: bob.fingerprint, wallTimeMs: T + 1000, body: { op: 'put', path: 'photos/\u00e9t\u00e9.jpg', meta: fileMeta('ete', 300_000) }, parents: [] });
  const b3 = nextEntry(tipOf(b2), { folder: FOLDER, author: bob.fingerprint, wallTimeMs: T + 2000, body: { op: 'move', from: 'docs/readme.md', to: 'docs/README.md', meta: fileMeta('readme', 1000) }, parents: [{ hash: b1.hash, lamport: 1 }] });
  const b4 = nextEntry(tipOf(b3), { folder: FOLDER, author: bob.fingerprint, wallTimeMs: T + 3000, body: { op: 'delete', path: 'photos/\u00e9t\u00e9.jpg' }, parents: [{ hash: b2.hash, lamport: 2 }] });
  const c1 = nextEntry(null, { folder: FOLDER, author: carol.fingerprint, wallTimeMs: T + 500, body: { op: 'put', path: 'docs', meta: { type: 'dir', size: 0, mode: 0o755, mtimeMs: T, contentHash: fileMeta('', 0).contentHash, blocks: [] } }, parents: [] });
  // Concurrent with bob's move: carol edits the old name; a conflict at docs/readme.md.
  const c2 = nextEntry(tipOf(c1), { folder: FOLDER, author: carol.fingerprint, wallTimeMs: T + 2500, body: { op: 'put', path: 'docs/readme.md', meta: fileMeta('readme-v2', 1200) }, parents: [{ hash: b1.hash, lamport: 1 }] });
  const c3 = nextEntry(tipOf(c2), { folder: FOLDER, author: carol.fingerprint, wallTimeMs: T + 2600, body: { op: 'put', path: 'link', meta: { type: 'symlink', size: 0, mode: 0o777, mtimeMs: T, contentHash: fileMeta('docs/README.md', 0).contentHash, blocks: [], linkTarget: 'docs/README.md' } }, parents: [] });
  const d1 = nextEntry(null, { folder: FOLDER, author: dave.fingerprint, wallTimeMs: T, body: { op: 'put', path: 'hello.txt', meta: fileMeta('hello', 5) }, parents: [] });

  const cpBob = await signCheckpoint(bob.signer, b4);
  const cpCarol = await signCheckpoint(carol.signer, c3);
  const cpDave = await signCheckpoint(dave.signer, d1);
  const tampered: Checkpoint = { ...cpBob, signature: Uint8Array.from(cpBob.signature, (x, i) => (i === cpBob.signature.length - 1 ? x ^ 1 : x)) };

  const feedVerdict = async (name: string, entries: HashedEntry[], cps: Checkpoint[]) => {
    const v = await validateFeed(
      { folder: FOLDER, author: entries[0].entry.author, tip: null, entries: entries.map((e) => e.bytes), checkpoints: cps.map(encodeCheckpoint) },
      { authority, verifier, parentLamports: (hs) => new Map([b1, b2, b3, b4, c1, c2, c3].filter((e) => hs.includes(e.hash)).map((e) => [e.hash, e.entry.lamport])) },
    );
    return {
      name,
      entries: entries.map((e) => hex(e.bytes)),
      checkpoints: cps.map((c) => hex(encodeCheckpoint(c))),
      accepted: v.accepted.map((e) => e.hash),
      refused: v.refused.map((r) => ({ kind: r.kind, index: r.index, reason: r.reason, ...(r.pathProblem ? { pathProblem: r.pathProblem } : {}) })),
    };
  };

  const state = new FolderState();
  for (const e of [b1, b2, b3, b4, c1, c2, c3]) state.apply(e);
  const invalid = (name: string, bytes: Uint8Array) => {
    let code = 'ACCEPTED';
    try {
      decodeEntry(bytes);
    } catch (err) {
      code = err instanceof DecodeError ? err.code : 'THREW';
    }
    return { name, bytes: hex(bytes), error: code };
  };
  const nonCanonical = Buffer.concat([b1.bytes.subarray(0, 38), Buffer.from([0x81, 0x00]), b1.bytes.subarray(39)]); // seq 1 as two bytes
  return {
    manifest: chainList[0].name,
    entries: [
      entryVector('bob-1-put', b1),
      entryVector('bob-2-put-nfc-multiblock', b2),
      entryVector('bob-3-move', b3),
      entryVector('bob-4-delete', b4),
      entryVector('carol-1-dir', c1),
      entryVector('carol-2-concurrent-put', c2),
      entryVector('carol-3-symlink', c3),
      entryVector('dave-1-put', d1),
    ],
    checkpoints: [
      await checkpointVector('bob-4-rsa', cpBob, 'bob'),
      await checkpointVector('carol-3-ed25519', cpCarol, 'carol'),
      await checkpointVector('bob-4-tampered', tampered, 'bob'),
    ],
    feeds: [
      await feedVerdict('bob-valid', [b1, b2, b3, b4], [cpBob]),
      await feedVerdict('bob-bad-signature', [b1, b2, b3, b4], [tampered]),
      await feedVerdict('carol-outside-grant', [c1, c2, c3], [cpCarol]),
      await feedVerdict('dave-reader', [d1], [cpDave]),
      await feedVerdict('bob-uncovered', [b1, b2], []),
    ],
    state: {
      entries: [b1, b2, b3, b4, c1, c2, c3].map((e) => e.hash),
      stateHash: state.stateHash(),
      livePaths: state.livePaths(),
      conflicts: state.conflicts().map((c) => ({ path: c.path, winner: c.winner.hash, losers: c.losers.map((l) => l.hash), heads: c.heads.map((x) => x.hash) })),
    },
    invalid: [
      invalid('truncated', b1.bytes.subarray(0, b1.bytes.length - 1)),
      invalid('trailing-byte', Buffer.concat([b1.bytes, Buffer.from([0])])),
      invalid('non-canonical-varint', nonCanonical),
      invalid('bad-kind', Buffer.concat([Buffer.from([0x02]), b1.bytes.subarray(1)])),
      invalid('bad-format-version', Buffer.concat([Buffer.from([0x01, 0x02]), b1.bytes.subarray(2)])),
    ],
  };
}

/** Used by tests that need an entry without a feed around it. */
export const plainEntry = (e: Entry): HashedEntry => hashEntry(e);
