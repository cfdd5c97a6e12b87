import { pluginSignedMessage } from '../../../proto';
import {
  advance,
  decodeCheckpoint,
  encodeCheckpoint,
  hashEntry,
  nextEntry,
  signCheckpoint,
  validateFeed,
  verifyForkEvidence,
  encodeForkEvidence,
  decodeForkEvidence,
  DecodeError,
  type Checkpoint,
  type EntryBody,
  type FeedTip,
  type HashedEntry,
  type PathProblem,
  type SignatureVerifier,
  type WriteAuthority,
  type FeedVerdict,
} from '../../../plugin/src/log';
import { OpenpgpVerifier } from '../../../plugin/src/log/openpgp-verifier';
import { ManifestIndex, type ManifestVersion } from '../../../plugin/src/acl';
import { FOLDER, OTHER_FOLDER, fileMeta, h, loadIdentities, member, members, signerFor, verifier, type Name, type TestIdentity } from '../../vectors/fixtures';

let ids: Record<Name, TestIdentity>;
let authority: ManifestIndex;
let manifest: ManifestVersion;

beforeAll(async () => {
  ids = await loadIdentities();
  const { alice, bob, carol, dave } = ids;
  manifest = {
    folder: FOLDER,
    name: 'test',
    version: 1,
    prev: null,
    author: alice.fingerprint,
    createdAtMs: 0,
    members: members(member(alice, 'admin'), member(bob, 'writer'), member(carol, 'writer', ['docs']), member(dave, 'reader')),
    revocations: [],
    ignoreRules: [],
  };
  authority = new ManifestIndex(manifest);
});

const put = (path: string): EntryBody => ({ op: 'put', path, meta: fileMeta(path) });

/** A chain of entries by `who`, one per body, after `tip`. */
function feed(who: TestIdentity, bodies: EntryBody[], tip: FeedTip | null = null, folder = FOLDER): HashedEntry[] {
  const out: HashedEntry[] = [];
  for (const body of bodies) {
    const e = nextEntry(tip, { folder, author: who.fingerprint, wallTimeMs: 1000, body, parents: [] });
    out.push(e);
    tip = advance(tip, e);
  }
  return out;
}

async function run(
  who: TestIdentity,
  entries: (HashedEntry | Uint8Array)[],
  checkpoints: (Checkpoint | Uint8Array)[],
  opts: { tip?: FeedTip | null; authority?: WriteAuthority; verifier?: SignatureVerifier; parentLamport?: (h: string) => number | undefined; forkedAt?: number; storedHashAt?: (s: number) => string | undefined } = {},
): Promise<FeedVerdict> {
  return validateFeed(
    {
      folder: FOLDER,
      author: who.fingerprint,
      tip: opts.tip ?? null,
      forkedAt: opts.forkedAt,
      storedHashes: opts.storedHashAt && (async (seqs) => new Map(seqs.flatMap((q) => { const x = opts.storedHashAt!(q); return x ? [[q, x] as const] : []; }))),
      entries: entries.map((e) => (e instanceof Uint8Array ? e : e.bytes)),
      checkpoints: checkpoints.map((c) => (c instanceof Uint8Array ? c : encodeCheckpoint(c))),
    },
    { authority: opts.authority ?? authority, verifier: opts.verifier ?? verifier, parentLamports: lamports(opts.parentLamport ?? (() => undefined)) },
  );
}

/** A parentLamports answering one hash at a time, asynchronously as a store would. */
const lamports = (one: (h: string) => number | undefined) => async (hashes: readonly string[]) =>
  new Map(hashes.flatMap((x) => { const l = one(x); return l === undefined ? [] : [[x, l] as const]; }));

const reasons = (v: FeedVerdict) => v.refused.map((r) => `${r.kind}${r.index}:${r.reason}`);

describe('validateFeed', () => {
  it('accepts a feed covered by one RSA checkpoint and returns the new tip and the checkpoint', async () => {
    const es = feed(ids.bob, [put('a'), put('b'), { op: 'delete', path: 'a' }]);
    const cp = await signCheckpoint(ids.bob.signer, es[2]);
    const v = await run(ids.bob, es, [cp]);
    expect(v.accepted.map((e) => e.hash)).toEqual(es.map((e) => e.hash));
    expect(v.refused).toEqual([]);
    expect(v.tip).toEqual({ seq: 3, hash: es[2].hash, lamport: 3 });
    expect(v.checkpoints.map((c) => c.seq)).toEqual([3]);
    // The next batch continues from that tip.
    const more = feed(ids.bob, [put('c')], v.tip);
    const v2 = await run(ids.bob, more, [await signCheckpoint(ids.bob.signer, more[0])], { tip: v.tip });
    expect(v2.accepted.map((e) => e.entry.seq)).toEqual([4]);
  });

  it('accepts an Ed25519 writer inside its path grant, whatever order the batch comes in', async () => {
    const es = feed(ids.carol, [put('docs'), put('docs/a.md'), put('docs/deep/b.md')]);
    const v = await run(ids.carol, [es[2], es[0], es[1]], [await signCheckpoint(ids.carol.signer, es[2])]);
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1, 2, 3]);
  });

  it('checks a signature once per batch, not once per checkpoint', async () => {
    const es = feed(ids.carol, [put('docs/1'), put('docs/2'), put('docs/3')]);
    const cps = await Promise.all(es.map((e) => signCheckpoint(ids.carol.signer, e)));
    let calls = 0;
    const counting: SignatureVerifier = { verify: (k, m, s) => (calls++, verifier.verify(k, m, s)) };
    const v = await run(ids.carol, es, cps, { verifier: counting });
    expect(v.accepted).toHaveLength(3);
    expect(calls).toBe(1);
  });

  it('TOO_MANY_CHECKPOINTS: forged checkpoints can not buy unbounded signature checks', async () => {
    const es = feed(ids.bob, Array.from({ length: 40 }, (_, i) => put(`f${i}`)));
    const forged = await Promise.all(es.map((e) => signCheckpoint(ids.alice.signer, e)));
    let calls = 0;
    const counting: SignatureVerifier = { verify: (k, m, sig) => (calls++, verifier.verify(k, m, sig)) };
    const v = await run(ids.bob, es, forged, { verifier: counting });
    expect(calls).toBe(32);
    expect(v.refused.filter((r) => r.reason === 'TOO_MANY_CHECKPOINTS')).toHaveLength(8);
    expect(v.accepted).toEqual([]);
  });

  it('BAD_SIGNATURE: a checkpoint signed by another key covers nothing', async () => {
    const es = feed(ids.bob, [put('a'), put('b')]);
    const forged = await signCheckpoint(ids.alice.signer, es[1]);
    const v = await run(ids.bob, es, [forged]);
    expect(v.accepted).toEqual([]);
    expect(reasons(v)).toEqual(['entry0:UNCOVERED', 'entry1:UNCOVERED', 'checkpoint0:BAD_SIGNATURE']);
  });

  it('BAD_SIGNATURE: flipping any byte of a checkpoint never lets its entries in', async () => {
    const es = feed(ids.carol, [put('docs/a'), put('docs/b')]);
    const bytes = encodeCheckpoint(await signCheckpoint(ids.carol.signer, es[1]));
    expect((await run(ids.carol, es, [bytes])).accepted).toHaveLength(2);
    const seen = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      const t = Buffer.from(bytes);
      t[i] ^= 0x01;
      const v = await run(ids.carol, es, [t]);
      if (v.accepted.length > 0) {
        // Only OpenPGP framing outside the signed data may change and still verify: the
        // checkpoint's fields must be the genuine ones.
        const d = decodeCheckpoint(t);
        expect([i, d.folder, d.author, d.seq, d.entryHash]).toEqual([i, FOLDER, ids.carol.fingerprint, 2, es[1].hash]);
      }
      v.refused.filter((r) => r.kind === 'checkpoint').forEach((r) => seen.add(r.reason));
    }
    expect([...seen].sort()).toEqual(['BAD_SIGNATURE', 'DECODE', 'WRONG_FEED']);
  });

  it('flipping any byte of an entry keeps it out', async () => {
    const es = feed(ids.carol, [put('docs/a')]);
    const cp = await signCheckpoint(ids.carol.signer, es[0]);
    for (let i = 0; i < es[0].bytes.length; i++) {
      const t = Buffer.from(es[0].bytes);
      t[i] ^= 0x80;
      expect([i, (await run(ids.carol, [t], [cp])).accepted.length]).toEqual([i, 0]);
    }
  });

  it('accepts host-made signatures through a wrapping verifier, and only through it', async () => {
    const wrap = (b: Uint8Array) => pluginSignedMessage('kinfolder', b);
    const es = feed(ids.bob, [put('h')]);
    const cp = await signCheckpoint(signerFor(ids.bob.privateKey, wrap), es[0]);
    expect((await run(ids.bob, es, [cp], { verifier: new OpenpgpVerifier({ wrap }) })).accepted).toHaveLength(1);
    expect(reasons(await run(ids.bob, es, [cp]))).toEqual(['entry0:UNCOVERED', 'checkpoint0:BAD_SIGNATURE']);
    const other = (b: Uint8Array) => pluginSignedMessage('otherplugin', b);
    expect((await run(ids.bob, es, [cp], { verifier: new OpenpgpVerifier({ wrap: other }) })).accepted).toHaveLength(0);
  });

  it('UNKNOWN_AUTHOR: nobody in the manifest has that fingerprint', async () => {
    const without = new ManifestIndex({ ...manifest, members: manifest.members.filter((m) => m.fingerprint !== ids.bob.fingerprint) });
    const es = feed(ids.bob, [put('a')]);
    const v = await run(ids.bob, es, [await signCheckpoint(ids.bob.signer, es[0])], { authority: without });
    expect(reasons(v)).toEqual(['entry0:UNKNOWN_AUTHOR', 'checkpoint0:UNKNOWN_AUTHOR']);
  });

  it('NOT_A_WRITER: a reader writing', async () => {
    const es = feed(ids.dave, [put('a')]);
    const v = await run(ids.dave, es, [await signCheckpoint(ids.dave.signer, es[0])]);
    expect(reasons(v)).toEqual(['entry0:NOT_A_WRITER']);
    expect(v.accepted).toEqual([]);
  });

  it('OUTSIDE_PATH_GRANT: a writer of docs/ writing elsewhere, also as a move out of docs/', async () => {
    const es = feed(ids.carol, [put('docs/a'), put('photos/b')]);
    const v = await run(ids.carol, es, [await signCheckpoint(ids.carol.signer, es[1])]);
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1]);
    expect(reasons(v)).toEqual(['entry1:OUTSIDE_PATH_GRANT']);
    const mv = feed(ids.carol, [{ op: 'move', from: 'docs/a', to: 'out/a', meta: fileMeta('a') }]);
    expect(reasons(await run(ids.carol, mv, [await signCheckpoint(ids.carol.signer, mv[0])]))).toEqual(['entry0:OUTSIDE_PATH_GRANT']);
  });

  it('REVOKED: a revoked writer past its last valid seq; what follows is refused too', async () => {
    const revoked = new ManifestIndex({ ...manifest, revocations: [{ fingerprint: ids.bob.fingerprint, lastValidSeq: 2 }] });
    const es = feed(ids.bob, [put('a'), put('b'), put('c'), put('d')]);
    const v = await run(ids.bob, es, [await signCheckpoint(ids.bob.signer, es[3])], { authority: revoked });
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1, 2]);
    expect(reasons(v)).toEqual(['entry2:REVOKED', 'entry3:BROKEN_CHAIN']);
  });

  it('BROKEN_CHAIN: a gap in the feed, or a first entry that does not follow the tip', async () => {
    const es = feed(ids.bob, [put('a'), put('b'), put('c')]);
    const v = await run(ids.bob, [es[0], es[2]], [await signCheckpoint(ids.bob.signer, es[2])]);
    expect(v.accepted).toEqual([]);
    expect(reasons(v)).toEqual(['entry0:UNCOVERED', 'entry1:BROKEN_CHAIN']);
    const other = feed(ids.bob, [put('x'), put('y')]);
    const tip: FeedTip = { seq: 1, hash: es[0].hash, lamport: 1 };
    const v2 = await run(ids.bob, [other[1]], [], { tip });
    expect(reasons(v2)).toEqual(['entry0:BROKEN_CHAIN']);
  });

  it('UNCOVERED: entries without any checkpoint', async () => {
    const es = feed(ids.bob, [put('a'), put('b')]);
    const v = await run(ids.bob, es, [await signCheckpoint(ids.bob.signer, es[0])]);
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1]);
    expect(reasons(v)).toEqual(['entry1:UNCOVERED']);
  });

  it('FORK: two signed histories at one seq inside a batch; the feed stops there with evidence', async () => {
    const [a1, a2] = feed(ids.carol, [put('docs/1'), put('docs/2')]);
    const b2 = nextEntry(advance(null, a1), { folder: FOLDER, author: ids.carol.fingerprint, wallTimeMs: 1, body: put('docs/2-other'), parents: [] });
    const b3 = nextEntry(advance(advance(null, a1), b2), { folder: FOLDER, author: ids.carol.fingerprint, wallTimeMs: 1, body: put('docs/3'), parents: [] });
    const v = await run(ids.carol, [a1, a2, b2, b3], [await signCheckpoint(ids.carol.signer, a2), await signCheckpoint(ids.carol.signer, b3)]);
    expect(v.accepted.map((e) => e.hash)).toEqual([a1.hash]);
    expect(v.fork).toMatchObject({ author: ids.carol.fingerprint, seq: 2, hashes: [a2.hash, b2.hash].sort() });
    expect(v.fork?.entries).toHaveLength(3); // a2, and b2 with b3 that links the second checkpoint down to it
    expect(v.fork?.checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(reasons(v)).toEqual(['entry1:FORK', 'entry2:FORK', 'entry3:FORK']);
    // Anyone can re-check the evidence; cut out a checkpoint and it proves nothing.
    expect(await verifyForkEvidence(v.fork!, ids.carol.publicKeyArmored, verifier)).toEqual({ ok: true });
    // As one canonical blob it round-trips and still proves the fork.
    const blob = encodeForkEvidence(v.fork!);
    const back = decodeForkEvidence(blob);
    expect(encodeForkEvidence(back)).toEqual(blob);
    expect(await verifyForkEvidence(back, ids.carol.publicKeyArmored, verifier)).toEqual({ ok: true });
    for (let n = 0; n < blob.length; n += 7) expect(() => decodeForkEvidence(blob.subarray(0, n))).toThrow(DecodeError);
    expect((await verifyForkEvidence({ ...v.fork!, checkpoints: v.fork!.checkpoints.slice(1) }, ids.carol.publicKeyArmored, verifier)).ok).toBe(false);
    expect((await verifyForkEvidence(v.fork!, ids.alice.publicKeyArmored, verifier)).ok).toBe(false);
    expect((await verifyForkEvidence({ ...v.fork!, entries: v.fork!.entries.filter((e) => !Buffer.from(e).equals(b3.bytes)) }, ids.carol.publicKeyArmored, verifier)).ok).toBe(false);
  });

  it('FORK: two signed histories that part early are cut at the lowest seq where they disagree', async () => {
    const [x1, a2, a3, a4] = feed(ids.carol, [put('docs/1'), put('docs/a2'), put('docs/a3'), put('docs/a4')]);
    const bs = feed(ids.carol, [put('docs/b2'), put('docs/b3'), put('docs/b4'), put('docs/b5')], advance(null, x1));
    const v = await run(ids.carol, [x1, a2, a3, a4, ...bs], [await signCheckpoint(ids.carol.signer, a4), await signCheckpoint(ids.carol.signer, bs[3])]);
    expect(v.accepted.map((e) => e.hash)).toEqual([x1.hash]);
    expect(v.fork).toMatchObject({ seq: 2, hashes: [a2.hash, bs[0].hash].sort() });
    expect(await verifyForkEvidence(v.fork!, ids.carol.publicKeyArmored, verifier)).toEqual({ ok: true });
  });

  it('FORK: a signed entry that contradicts what is stored', async () => {
    const [a1, a2] = feed(ids.carol, [put('docs/1'), put('docs/2')]);
    const tip = advance(advance(null, a1), a2);
    const b2 = nextEntry(advance(null, a1), { folder: FOLDER, author: ids.carol.fingerprint, wallTimeMs: 1, body: put('docs/x'), parents: [] });
    const v = await run(ids.carol, [b2], [await signCheckpoint(ids.carol.signer, b2)], { tip, storedHashAt: (s) => (s === 1 ? a1.hash : undefined) });
    expect(v.fork).toMatchObject({ seq: 2, hashes: [a2.hash, b2.hash].sort() });
    expect(reasons(v)).toEqual(['entry0:FORK']);
    // Without a signature the claim proves nothing.
    const unsigned = await run(ids.carol, [b2], [], { tip });
    expect(unsigned.fork).toBeNull();
    expect(reasons(unsigned)).toEqual(['entry0:UNCOVERED']);
  });

  it('FORK: nothing at or after a known fork point is accepted', async () => {
    const es = feed(ids.carol, [put('docs/1'), put('docs/2'), put('docs/3')]);
    const v = await run(ids.carol, es, [await signCheckpoint(ids.carol.signer, es[2])], { forkedAt: 2 });
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1]);
    expect(reasons(v)).toEqual(['entry1:FORK', 'entry2:FORK']);
  });

  const unclean: [string, PathProblem][] = [
    ['', 'EMPTY'],
    ['a\0b', 'NUL'],
    ['a\tb', 'CONTROL_CHAR'],
    ['a\\b', 'BACKSLASH'],
    ['cafe\u0301', 'NOT_NFC'],
    ['d/'.repeat(2049) + 'x', 'TOO_LONG'],
    ['/abs', 'ABSOLUTE'],
    ['dir/', 'TRAILING_SLASH'],
    ['a//b', 'EMPTY_SEGMENT'],
    ['a/./b', 'DOT_SEGMENT'],
    ['../up', 'DOTDOT_SEGMENT'],
    ['y'.repeat(256), 'SEGMENT_TOO_LONG'],
    [Array(65).fill('d').join('/'), 'TOO_DEEP'],
    ['.kinfolder/x', 'RESERVED'],
  ];
  it.each(unclean.map(([p, problem]) => [problem, p]))('BAD_PATH: an entry moving a file to a path that is %s', async (problem, path) => {
    const es = feed(ids.bob, [put('ok'), { op: 'move', from: 'ok', to: path, meta: fileMeta('ok') }]);
    const v = await run(ids.bob, es, [await signCheckpoint(ids.bob.signer, es[1])]);
    expect(v.accepted.map((e) => e.entry.seq)).toEqual([1]);
    expect(v.refused).toMatchObject([{ index: 1, reason: 'BAD_PATH', pathProblem: problem }]);
  });

  it('DECODE and WRONG_FEED: garbage and entries of other feeds are refused, the rest goes on', async () => {
    const es = feed(ids.bob, [put('a')]);
    const stranger = feed(ids.carol, [put('docs/a')]);
    const otherFolder = feed(ids.bob, [put('a')], null, OTHER_FOLDER);
    const v = await run(ids.bob, [Buffer.from('garbage'), es[0], stranger[0], otherFolder[0]], [Buffer.from([2, 1, 0]), await signCheckpoint(ids.bob.signer, es[0])]);
    expect(v.accepted).toHaveLength(1);
    expect(reasons(v)).toEqual(['entry0:DECODE', 'entry2:WRONG_FEED', 'entry3:WRONG_FEED', 'checkpoint0:DECODE']);
    expect(v.refused[0].decodeCode).toBe('DECODE_BAD_KIND');
  });

  it('BAD_LAMPORT: a clock that does not grow along the feed', async () => {
    const [a1] = feed(ids.bob, [put('a')]);
    const a2 = hashEntry({ ...a1.entry, seq: 2, prev: a1.hash, lamport: 1 });
    const v = await run(ids.bob, [a1, a2], [await signCheckpoint(ids.bob.signer, a2)]);
    expect(v.accepted).toHaveLength(1);
    expect(reasons(v)).toEqual(['entry1:BAD_LAMPORT']);
  });

  it('stays linear on hostile batches: a long uncovered chain, or thousands of entries at one seq', async () => {
    const chain = feed(ids.bob, Array.from({ length: 20000 }, (_, i) => put(`f${i}`)));
    const junk = Array.from({ length: 5000 }, (_, i) => nextEntry(null, { folder: FOLDER, author: ids.bob.fingerprint, wallTimeMs: i, body: put(`j${i}`), parents: [] }));
    const started = process.hrtime.bigint();
    const v = await run(ids.bob, [...junk, ...chain], [await signCheckpoint(ids.bob.signer, chain[9999])]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(v.accepted).toHaveLength(10000);
    expect(v.refused.filter((r) => r.reason === 'UNCOVERED')).toHaveLength(10000 + 5000);
    // Quadratic behaviour would take minutes here; linear takes well under a second.
    expect(seconds).toBeLessThan(15);
  });

  it('stops when its signal is aborted', async () => {
    const es = feed(ids.bob, [put('a')]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(
      validateFeed(
        { folder: FOLDER, author: ids.bob.fingerprint, tip: null, entries: es.map((e) => e.bytes), checkpoints: [encodeCheckpoint(await signCheckpoint(ids.bob.signer, es[0]))] },
        { authority, verifier, parentLamports: () => new Map(), signal: ac.signal },
      ),
    ).rejects.toThrow('stop');
  });

  it('defers an entry whose parent from another feed is unknown, and accepts it once known', async () => {
    const p = h('parent-from-alice');
    const e1 = nextEntry(null, { folder: FOLDER, author: ids.bob.fingerprint, wallTimeMs: 1, body: put('a'), parents: [{ hash: p, lamport: 7 }] });
    const cp = await signCheckpoint(ids.bob.signer, e1);
    const waiting = await run(ids.bob, [e1], [cp]);
    expect(waiting.accepted).toEqual([]);
    expect(waiting.refused).toEqual([]);
    expect(waiting.deferred).toEqual([{ index: 0, seq: 1, hash: e1.hash, missingParents: [p] }]);
    expect((await run(ids.bob, [e1], [cp], { parentLamport: (x) => (x === p ? 7 : undefined) })).accepted).toHaveLength(1);
    expect(reasons(await run(ids.bob, [e1], [cp], { parentLamport: (x) => (x === p ? 8 : undefined) }))).toEqual(['entry0:BAD_LAMPORT']);
  });
});
