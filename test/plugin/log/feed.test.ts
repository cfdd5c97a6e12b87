import { LogError, advance, appendBatch, checkpointSigningBytes, forkBetween, lamportViolation, linksTo, mergeVectors, missingFrom, nextEntry, type FeedHead, type FeedTip } from '../../../plugin/src/log';
import { FOLDER, fileMeta, h, loadIdentities, verifier } from '../../vectors/fixtures';

const A = 'A'.repeat(40);
const B = 'B'.repeat(40);
const put = (path: string) => ({ op: 'put' as const, path, meta: fileMeta(path) });

describe('feeds', () => {
  it('chains entries: seq + 1, prev = hash of the previous, lamport above previous and parents', () => {
    const e1 = nextEntry(null, { folder: FOLDER, author: A, wallTimeMs: 1, body: put('a'), parents: [] });
    expect(e1.entry).toMatchObject({ seq: 1, prev: null, lamport: 1 });
    let tip: FeedTip = advance(null, e1);
    const e2 = nextEntry(tip, { folder: FOLDER, author: A, wallTimeMs: 2, body: put('b'), parents: [{ hash: h('x'), lamport: 9 }, { hash: h('w'), lamport: 3 }] });
    expect(e2.entry).toMatchObject({ seq: 2, prev: e1.hash, lamport: 10, parents: [h('x'), h('w')].sort() });
    expect(linksTo(e2.entry, tip)).toBe(true);
    tip = advance(tip, e2);
    expect(tip).toEqual({ seq: 2, hash: e2.hash, lamport: 10 });
    expect(linksTo(e1.entry, tip)).toBe(false);
    expect(() => advance(tip, e1)).toThrow(LogError);
  });

  it('states the Lamport rule', () => {
    const e = nextEntry(null, { folder: FOLDER, author: A, wallTimeMs: 1, body: put('a'), parents: [{ hash: h('p'), lamport: 4 }] }).entry;
    expect(e.lamport).toBe(5);
    expect(lamportViolation(e, 4, [4])).toBeNull();
    expect(lamportViolation(e, 5, [])).toMatch(/previous/);
    expect(lamportViolation(e, null, [1, 5])).toMatch(/parent/);
  });

  it('says what one version vector lacks from another, per author, and where they diverge', () => {
    const have = new Map<string, FeedHead>([[A, { seq: 3, head: h('a3') }], [B, { seq: 5, head: h('b5') }]]);
    const other = new Map<string, FeedHead>([[A, { seq: 7, head: h('a7') }], [B, { seq: 5, head: h('b5-other') }], ['C'.repeat(40), { seq: 2, head: h('c2') }]]);
    expect(missingFrom(have, other)).toEqual({ ranges: [{ author: A, fromSeq: 4, toSeq: 7 }, { author: 'C'.repeat(40), fromSeq: 1, toSeq: 2 }], divergent: [B] });
    expect(missingFrom(other, have)).toEqual({ ranges: [], divergent: [B] });
    expect(missingFrom(have, have)).toEqual({ ranges: [], divergent: [] });
    const merged = mergeVectors(have, other);
    expect(merged.get(A)).toEqual({ seq: 7, head: h('a7') });
    expect(merged.get(B)).toEqual({ seq: 5, head: h('b5') });
  });

  it('recognises a fork: two different entries at one (author, seq)', () => {
    const x = nextEntry(null, { folder: FOLDER, author: A, wallTimeMs: 1, body: put('a'), parents: [] });
    const y = nextEntry(null, { folder: FOLDER, author: A, wallTimeMs: 1, body: put('b'), parents: [] });
    const z = nextEntry(null, { folder: FOLDER, author: B, wallTimeMs: 1, body: put('b'), parents: [] });
    const f = forkBetween(y, x);
    expect(f).toMatchObject({ author: A, seq: 1, hashes: [x.hash, y.hash].sort() });
    expect(f?.entries).toHaveLength(2);
    expect(forkBetween(x, x)).toBeNull();
    expect(forkBetween(x, z)).toBeNull();
  });
});

describe('appendBatch', () => {
  it('chains a batch of local changes and signs one checkpoint at its end that verifies', async () => {
    const { alice } = await loadIdentities();
    const changes = ['a', 'b', 'c'].map((p) => ({ folder: FOLDER, author: alice.fingerprint, wallTimeMs: 5, body: put(p), parents: [] }));
    const r = await appendBatch(null, changes, alice.signer);
    expect(r.entries.map((e) => e.entry.seq)).toEqual([1, 2, 3]);
    expect(r.tip).toMatchObject({ seq: 3, hash: r.entries[2].hash });
    expect(r.checkpoint).toMatchObject({ seq: 3, entryHash: r.entries[2].hash, author: alice.fingerprint });
    expect(await verifier.verify(alice.publicKeyArmored, checkpointSigningBytes(r.checkpoint!), r.checkpoint!.signature)).toBe(true);
    expect(await appendBatch(r.tip, [], alice.signer)).toEqual({ entries: [], checkpoint: null, tip: r.tip });
    const ac = new AbortController();
    ac.abort();
    await expect(appendBatch(null, changes, alice.signer, ac.signal)).rejects.toThrow();
  });
});
