import fc from 'fast-check';
import { advance, encodeCheckpoint, hashEntry, nextEntry, pathProblem, pathsOf, signCheckpoint, validateFeed, type Checkpoint, type FeedTip, type HashedEntry } from '../../../plugin/src/log';
import { ManifestIndex } from '../../../plugin/src/acl';
import { FOLDER, fileMeta, loadIdentities, member, members, verifier, type Name, type TestIdentity } from '../../vectors/fixtures';

let ids: Record<Name, TestIdentity>;
let authority: ManifestIndex;

beforeAll(async () => {
  ids = await loadIdentities();
  const { alice, bob, carol, dave } = ids;
  authority = new ManifestIndex({
    folder: FOLDER,
    name: 'p',
    version: 1,
    prev: null,
    author: alice.fingerprint,
    createdAtMs: 0,
    // bob writes everywhere until seq 6; carol only under docs/; dave only reads.
    members: members(member(alice, 'admin'), member(bob, 'writer'), member(carol, 'writer', ['docs']), member(dave, 'reader')),
    revocations: [{ fingerprint: bob.fingerprint, lastValidSeq: 6 }],
    ignoreRules: [],
  });
});

const PATHS = ['a', 'docs/a', 'docs/sub/b', 'x/y', '../escape', 'a//b', '.kinfolder/v', 'cafe\u0301', 'docs'];

/** What the rules say about one entry, independently of the validator. */
function ruleRefuses(e: HashedEntry, prevLamport: number): string | null {
  for (const p of pathsOf(e.entry.body)) if (pathProblem(p) !== null) return 'BAD_PATH';
  for (const p of pathsOf(e.entry.body)) {
    const d = authority.mayWrite(e.entry.author, p, e.entry.seq);
    if (!d.ok) return d.reason;
  }
  if (e.entry.lamport <= prevLamport) return 'BAD_LAMPORT';
  return null;
}

describe('validation properties', () => {
  it('a replica never accepts an entry a rule refuses, and accepts exactly what is covered and valid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Name>('alice', 'bob', 'carol', 'dave'),
        fc.array(fc.record({ path: fc.nat(PATHS.length - 1), to: fc.nat(PATHS.length - 1), move: fc.boolean(), badClock: fc.boolean() }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 4 }), cpAt: fc.nat(), tamper: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        async (name, steps, batches) => {
          const who = ids[name];
          // The author's feed, with now and then a clock that does not grow.
          const feed: HashedEntry[] = [];
          let tip: FeedTip | null = null;
          for (const s of steps) {
            const body = s.move ? { op: 'move' as const, from: PATHS[s.path], to: PATHS[s.to], meta: fileMeta('m') } : { op: 'put' as const, path: PATHS[s.path], meta: fileMeta('p') };
            let e = nextEntry(tip, { folder: FOLDER, author: who.fingerprint, wallTimeMs: 0, body, parents: [] });
            if (s.badClock && tip) e = hashEntry({ ...e.entry, lamport: tip.lamport });
            feed.push(e);
            tip = { seq: e.entry.seq, hash: e.hash, lamport: e.entry.lamport };
          }
          // A replica receives slices from its tip on, each with one checkpoint, some forged.
          let replica: FeedTip | null = null;
          let stopped = false;
          for (const b of batches) {
            const from = replica ? replica.seq : 0;
            const slice = feed.slice(from, from + b.size);
            if (slice.length === 0) break;
            const target = slice[b.cpAt % slice.length];
            let cp: Checkpoint = await signCheckpoint(who.signer, target);
            if (b.tamper) cp = { ...cp, signature: Uint8Array.from(cp.signature, (x, i) => (i === cp.signature.length - 3 ? x ^ 0x10 : x)) };
            const v = await validateFeed(
              { folder: FOLDER, author: who.fingerprint, tip: replica, entries: slice.map((e) => e.bytes), checkpoints: [encodeCheckpoint(cp)] },
              { authority, verifier, parentLamports: () => new Map() },
            );
            // The oracle: accept in order up to the checkpoint (if genuine), stop at the first rule broken.
            const expected: HashedEntry[] = [];
            let firstRefusal: string | null = null;
            let prevLamport = replica ? replica.lamport : 0;
            if (!b.tamper && !stopped) {
              for (const e of slice) {
                if (e.entry.seq > target.entry.seq) break;
                const why = ruleRefuses(e, prevLamport);
                if (why) {
                  firstRefusal = why;
                  break;
                }
                expected.push(e);
                prevLamport = e.entry.lamport;
              }
            }
            expect(v.accepted.map((e) => e.entry.seq)).toEqual(expected.map((e) => e.entry.seq));
            for (const e of v.accepted) expect(ruleRefuses(e, e.entry.seq === 1 ? 0 : feed[e.entry.seq - 2].entry.lamport)).toBeNull();
            if (firstRefusal) expect(v.refused.find((r) => r.kind === 'entry' && r.reason !== 'BROKEN_CHAIN' && r.reason !== 'UNCOVERED')?.reason).toBe(firstRefusal);
            if (b.tamper) expect(v.refused.some((r) => r.kind === 'checkpoint' && r.reason === 'BAD_SIGNATURE')).toBe(true);
            for (const e of v.accepted) replica = advance(replica, e);
            if (firstRefusal) stopped = true;
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never throws on truncated, flipped or random input, and gives every entry exactly one verdict', async () => {
    const who = ids.carol;
    const good: HashedEntry[] = [];
    let tip: FeedTip | null = null;
    for (let i = 0; i < 6; i++) {
      const e = nextEntry(tip, { folder: FOLDER, author: who.fingerprint, wallTimeMs: i, body: { op: 'put', path: `docs/${i}`, meta: fileMeta(`${i}`) }, parents: [] });
      good.push(e);
      tip = advance(tip, e);
    }
    const cp = encodeCheckpoint(await signCheckpoint(who.signer, good[5]));
    const arbInput = fc.oneof(
      fc.nat(5).map((i) => Buffer.from(good[i].bytes)),
      fc.tuple(fc.nat(5), fc.nat()).map(([i, cut]) => Buffer.from(good[i].bytes).subarray(0, cut % good[i].bytes.length)),
      fc.tuple(fc.nat(5), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([i, at, bit]) => {
        const b = Buffer.from(good[i].bytes);
        b[at % b.length] ^= 1 << bit;
        return b;
      }),
      fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(arbInput, { maxLength: 12 }), fc.array(fc.oneof(fc.constant(cp), fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u))), { maxLength: 3 }), async (entries, checkpoints) => {
        const v = await validateFeed({ folder: FOLDER, author: who.fingerprint, tip: null, entries, checkpoints }, { authority, verifier, parentLamports: () => new Map() });
        // Accepted entries are the feed's own, in order from seq 1.
        expect(v.accepted.map((e) => e.hash)).toEqual(good.slice(0, v.accepted.length).map((e) => e.hash));
        const acceptedHashes = new Set(v.accepted.map((e) => e.hash));
        const verdicts = new Map<number, number>();
        for (const r of v.refused) if (r.kind === 'entry') verdicts.set(r.index, (verdicts.get(r.index) ?? 0) + 1);
        for (const d of v.deferred) verdicts.set(d.index, (verdicts.get(d.index) ?? 0) + 1);
        entries.forEach((bytes, i) => {
          const isAccepted = good.some((g) => acceptedHashes.has(g.hash) && Buffer.from(g.bytes).equals(bytes));
          expect([i, (verdicts.get(i) ?? 0) + (isAccepted ? 1 : 0)]).toEqual([i, 1]);
        });
      }),
      { numRuns: 150 },
    );
  });
});
