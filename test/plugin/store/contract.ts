// The store contract: every store implementation must pass this suite (call it from a *.test.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { isStoreError, type EntryRecord, type ManifestRecord, type Store } from '../../../plugin/src/store';
import { entry, feed, hashOf, tempDir } from './records';

export type StoreFactory = (file: string) => Promise<Store>;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const sortedHashes = (hs: string[]): string[] => [...hs].sort();

/** Random steps of three authors over paths p0..p3: a put, or a move when `move` names another path; `seen` picks parents among earlier steps. */
const dagSteps = fc.array(fc.record({ author: fc.integer({ min: 0, max: 2 }), path: fc.integer({ min: 0, max: 3 }), move: fc.integer({ min: -1, max: 3 }), seen: fc.array(fc.integer({ min: 0, max: 24 }), { maxLength: 3 }) }), { minLength: 1, maxLength: 25 });

/** The steps' entries in causal order, and each author's last seq. */
function dagOf(folder: string, steps: ReadonlyArray<{ author: number; path: number; move: number; seen: number[] }>): { made: EntryRecord[]; seqs: number[] } {
  const seqs = [0, 0, 0];
  const made: EntryRecord[] = [];
  for (const s of steps) {
    const paths = s.move >= 0 && s.move !== s.path ? [`p${s.path}`, `p${s.move}`] : [`p${s.path}`];
    const parents = [...new Set(s.seen.filter((i) => i < made.length).map((i) => made[i].hash))];
    made.push(entry({ folder, author: `A${s.author}`, seq: ++seqs[s.author], paths, parents }));
  }
  return { made, seqs };
}

/** Heads by the definition: an entry touching p that no entry touching p names as a parent. */
function headsOf(entries: readonly EntryRecord[]): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (const p of ['p0', 'p1', 'p2', 'p3']) {
    const touching = entries.filter((e) => e.paths.includes(p));
    const named = new Set(touching.flatMap((e) => e.parents));
    const hs = touching.filter((e) => !named.has(e.hash)).map((e) => e.hash);
    if (hs.length) expected.set(p, sortedHashes(hs));
  }
  return expected;
}

export function storeContract(name: string, open: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let dir: string;
    let file: string;
    let store: Store;

    beforeEach(async () => {
      dir = tempDir('kinfolder-store-');
      file = path.join(dir, 'store.sqlite');
      store = await open(file);
    });
    afterEach(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('entries', () => {
      test('stores entries and returns them by hash, byte for byte', async () => {
        const es = feed('A', 1, 3);
        es[1] = { ...es[1], paths: ['x/y.txt', 'x/z.txt'], parents: [es[0].hash], lamport: 42 };
        const r = await store.appendBatch({ entries: es });
        expect(r.entriesInserted).toBe(3);
        for (const e of es) expect(await store.entry(e.hash)).toEqual(e);
        expect(await store.entry(hashOf('never stored'))).toBeUndefined();
      });

      test('entries answers for stored hashes only, byte for byte as entry() does', async () => {
        expect(store.entries).toBeDefined();
        const entries = (hs: string[]) => (store.entries as NonNullable<Store['entries']>)(hs);
        const es = feed('A', 1, 600);
        es[1] = { ...es[1], paths: ['x/y.txt', 'x/z.txt'], parents: [es[0].hash], lamport: 42 };
        const more = feed('B', 1, 3);
        await store.appendBatch({ entries: es.slice(0, 300) });
        await store.appendBatch({ entries: [...es.slice(300), ...more] });
        const asked = [es[0].hash, es[1].hash, es[299].hash, es[300].hash, es[599].hash, more[2].hash, hashOf('never stored')];
        const got = await entries(asked);
        expect([...got.keys()].sort()).toEqual(asked.slice(0, 6).sort());
        for (const h of asked.slice(0, 6)) expect(got.get(h)).toEqual(await store.entry(h));
        expect(got.get(es[1].hash)).toEqual(es[1]);
        // More than one statement's worth.
        expect((await entries(es.map((e) => e.hash))).size).toBe(600);
      });

      test('lamports answers for stored hashes only, in one call', async () => {
        const es = feed('A', 1, 600).map((e, i) => ({ ...e, lamport: 1000 + i }));
        await store.appendBatch({ entries: es.slice(0, 300) });
        await store.appendBatch({ entries: es.slice(300) });
        const asked = [es[0].hash, es[299].hash, es[300].hash, es[599].hash, hashOf('never stored')];
        const got = await store.lamports!(asked);
        expect(got).toEqual(new Map([[es[0].hash, 1000], [es[299].hash, 1299], [es[300].hash, 1300], [es[599].hash, 1599]]));
        expect(await store.lamports!([])).toEqual(new Map());
      });

      test('prepareBatch does the checks ahead and writes nothing; appendBatch of that batch then stores it or reports what was wrong', async () => {
        const es = feed('A', 1, 300);
        const batch = { entries: es, checkpoints: [{ folder: 'folder-1', author: 'A', seq: 300, entryHash: es[299].hash, signature: Buffer.from('s') }] };
        store.prepareBatch!(batch);
        const never = { entries: feed('B', 1, 5) };
        store.prepareBatch!(never);
        const bad = { entries: [entry({ seq: 1, author: 'C' }), { ...entry({ seq: 2, author: 'C' }), hash: 'not-hex' }] };
        expect(() => store.prepareBatch!(bad)).not.toThrow();
        expect(await store.versionVector('folder-1')).toEqual(new Map());
        expect(await store.appendBatch(batch)).toEqual({ entriesInserted: 300, checkpointsInserted: 1, forksInserted: 0 });
        expect(await collect(store.entriesRange('folder-1', 'A', 1, 300))).toEqual(es);
        const err = await store.appendBatch(bad).catch((e) => e);
        expect(isStoreError(err, 'STORE_INVALID_ARGUMENT')).toBe(true);
        expect([...(await store.versionVector('folder-1')).keys()]).toEqual(['A']);
      });

      test('duplicates by hash are ignored, within a batch and across batches', async () => {
        const es = feed('A', 1, 4);
        expect((await store.appendBatch({ entries: [...es, es[0]] })).entriesInserted).toBe(4);
        expect((await store.appendBatch({ entries: es })).entriesInserted).toBe(0);
        expect(await collect(store.entriesRange('folder-1', 'A', 1, 10))).toHaveLength(4);
      });

      test('a second entry at a stored (author, seq) is refused and the whole batch rolls back', async () => {
        await store.appendBatch({ entries: feed('A', 1, 2) });
        const other = entry({ author: 'A', seq: 2, label: 'a different entry at seq 2' });
        const innocent = entry({ author: 'B', seq: 1 });
        const err = await store.appendBatch({ entries: [innocent, other] }).catch((e) => e);
        expect(isStoreError(err, 'STORE_CONSTRAINT')).toBe(true);
        expect(err.message).toMatch(/collides with stored entry/);
        expect(await store.entry(innocent.hash)).toBeUndefined();
        expect(await store.entry(other.hash)).toBeUndefined();
        expect((await store.versionVector('folder-1')).has('B')).toBe(false);
      });

      test('a malformed record is refused before anything is written', async () => {
        const good = entry({ seq: 1 });
        const bad = { ...entry({ seq: 2 }), hash: 'not-hex' };
        const err = await store.appendBatch({ entries: [good, bad] }).catch((e) => e);
        expect(isStoreError(err, 'STORE_INVALID_ARGUMENT')).toBe(true);
        expect(await store.entry(good.hash)).toBeUndefined();
      });

      test('a prev that is the hash of the entry before it is checked with that hash: malformed, the batch is refused', async () => {
        const first = { ...entry({ seq: 1 }), hash: 'Z'.repeat(64) };
        const second = { ...entry({ seq: 2 }), prev: first.hash };
        const err = await store.appendBatch({ entries: [first, second] }).catch((e) => e);
        expect(isStoreError(err, 'STORE_INVALID_ARGUMENT')).toBe(true);
        // A malformed prev of its own is refused too, whatever the entry before it.
        const third = { ...entry({ seq: 3 }), prev: 'not-hex' };
        const err2 = await store.appendBatch({ entries: [entry({ seq: 1 }), entry({ seq: 2 }), third] }).catch((e) => e);
        expect(isStoreError(err2, 'STORE_INVALID_ARGUMENT')).toBe(true);
        expect(await store.versionVector('folder-1')).toEqual(new Map());
      });

      test('reads running beside a batch never see half of it', async () => {
        const big = feed('A', 1, 12_000);
        const writing = store.appendBatch({ entries: big });
        const seen = new Set<number>();
        let done = false;
        void writing.finally(() => (done = true));
        while (!done) {
          // The batch inserts in several statements; a reader inside the transaction would see 2000, 4000, ...
          let n = 0;
          for await (const _ of store.entriesRange('folder-1', 'A', 1, 12_000, { pageSize: 5000 })) n++;
          seen.add(n);
          // Once the last entry is visible the batch has committed, so the vector read after it must show all of it.
          if (await store.entry(big[big.length - 1].hash)) expect((await store.versionVector('folder-1')).get('A')?.seq).toBe(12_000);
        }
        await writing;
        expect([...seen].filter((n) => n !== 0 && n !== 12_000)).toEqual([]);
      });

      test('an aborted batch rolls back whole', async () => {
        const ac = new AbortController();
        ac.abort();
        const early = await store.appendBatch({ entries: feed('A', 1, 10) }, { signal: ac.signal }).catch((e) => e);
        expect(isStoreError(early, 'STORE_ABORTED')).toBe(true);
        // Aborted after it was queued, next to a batch that goes on: only the aborted one is undone.
        const late = new AbortController();
        const first = store.appendBatch({ entries: feed('B', 1, 100) });
        const second = store.appendBatch({ entries: feed('C', 1, 6000) }, { signal: late.signal }).catch((e) => e);
        setImmediate(() => late.abort());
        await first;
        expect(isStoreError(await second, 'STORE_ABORTED')).toBe(true);
        // Aborted after its first 2000 entries went in: a signal that turns aborted on its fourth look
        // (before the batch, at the start of its transaction, before each chunk of entries).
        let looks = 0;
        const midway = {
          get aborted() {
            return ++looks > 3;
          },
          reason: new Error('midway'),
        } as unknown as AbortSignal;
        const third = await store.appendBatch({ entries: feed('D', 1, 6000) }, { signal: midway }).catch((e) => e);
        expect(isStoreError(third, 'STORE_ABORTED')).toBe(true);
        expect(looks).toBe(4);
        const vv = await store.versionVector('folder-1');
        expect([...vv.keys()]).toEqual(['B']);
        expect(await collect(store.entriesRange('folder-1', 'D', 1, 6000))).toEqual([]);
        expect(await collect(store.entriesRange('folder-1', 'C', 1, 6000))).toEqual([]);
      });

      test('concurrent appendBatch calls all land, and a failing one does not disturb the others', async () => {
        const batches = Array.from({ length: 8 }, (_, i) => feed(`W${i}`, 1, 300));
        // Two different entries at BAD/1: this batch fails on its own, whatever order the queue runs them in.
        const bad = [entry({ author: 'BAD', seq: 1 }), entry({ author: 'BAD', seq: 1, label: 'fork of BAD/1' })];
        const results = await Promise.allSettled([...batches.map((entries) => store.appendBatch({ entries })), store.appendBatch({ entries: bad })]);
        expect(results.slice(0, 8).every((r) => r.status === 'fulfilled')).toBe(true);
        expect(results[8].status).toBe('rejected');
        const vv = await store.versionVector('folder-1');
        expect(vv.has('BAD')).toBe(false);
        for (let i = 0; i < 8; i++) expect(vv.get(`W${i}`)?.seq).toBe(300);
      });
    });

    describe('heads', () => {
      test('a child replaces its parent as the head of the path', async () => {
        const a1 = entry({ seq: 1, paths: ['doc.txt'] });
        const a2 = entry({ seq: 2, paths: ['doc.txt'], parents: [a1.hash] });
        await store.appendBatch({ entries: [a1] });
        expect((await store.heads('folder-1', 'doc.txt')).map((h) => h.hash)).toEqual([a1.hash]);
        await store.appendBatch({ entries: [a2] });
        expect(await store.heads('folder-1', 'doc.txt')).toEqual([{ hash: a2.hash, author: 'AUTHOR-A', seq: 2, lamport: 2 }]);
      });

      test('headsAt: the heads of many paths at once, as heads() gives them one by one', async () => {
        const base = entry({ author: 'A', seq: 1, paths: ['doc.txt'] });
        const left = entry({ author: 'A', seq: 2, paths: ['doc.txt'], parents: [base.hash] });
        const right = entry({ author: 'B', seq: 1, paths: ['doc.txt'], parents: [base.hash] });
        const many = Array.from({ length: 600 }, (_, i) => entry({ author: 'C', seq: i + 1, paths: [`d/f${i}`] }));
        await store.appendBatch({ entries: [base, left, right, ...many] });
        const found = await store.headsAt!('folder-1', ['doc.txt', 'none.txt', ...many.map((_, i) => `d/f${i}`)]);
        expect(found.get('doc.txt')).toEqual(await store.heads('folder-1', 'doc.txt'));
        expect(found.get('doc.txt')).toHaveLength(2);
        expect(found.has('none.txt')).toBe(false);
        expect(found.get('d/f599')).toEqual(await store.heads('folder-1', 'd/f599'));
        expect(found.size).toBe(601);
        expect((await store.headsAt!('other', ['doc.txt'])).size).toBe(0);
      });

      test('a child that arrives before its parent keeps the parent from ever becoming a head', async () => {
        const parent = entry({ author: 'A', seq: 1, paths: ['doc.txt'] });
        const child = entry({ author: 'B', seq: 1, paths: ['doc.txt'], parents: [parent.hash], lamport: 2 });
        await store.appendBatch({ entries: [child] });
        expect((await store.heads('folder-1', 'doc.txt')).map((h) => h.hash)).toEqual([child.hash]);
        await store.appendBatch({ entries: [parent] });
        expect((await store.heads('folder-1', 'doc.txt')).map((h) => h.hash)).toEqual([child.hash]);
      });

      test('two children of one parent are concurrent heads (a conflict), merged by an entry naming both', async () => {
        const base = entry({ author: 'A', seq: 1, paths: ['doc.txt'] });
        const left = entry({ author: 'A', seq: 2, paths: ['doc.txt'], parents: [base.hash] });
        const right = entry({ author: 'B', seq: 1, paths: ['doc.txt'], parents: [base.hash] });
        await store.appendBatch({ entries: [base, left, right] });
        const heads = await store.heads('folder-1', 'doc.txt');
        expect(heads.map((h) => h.hash)).toEqual(sortedHashes([left.hash, right.hash]));
        expect(heads.find((h) => h.hash === right.hash)).toEqual({ hash: right.hash, author: 'B', seq: 1, lamport: 1 });
        const merge = entry({ author: 'B', seq: 2, paths: ['doc.txt'], parents: [left.hash, right.hash], lamport: 3 });
        await store.appendBatch({ entries: [merge] });
        expect((await store.heads('folder-1', 'doc.txt')).map((h) => h.hash)).toEqual([merge.hash]);
      });

      test('a move is a head of both paths and supersedes parents only on the paths it touches', async () => {
        const a = entry({ author: 'A', seq: 1, paths: ['a.txt'] });
        const b = entry({ author: 'A', seq: 2, paths: ['b.txt'] });
        const c = entry({ author: 'A', seq: 3, paths: ['c.txt'] });
        // Moves a.txt onto b.txt, having seen a and b. It also (oddly) names c, which lives on a path it does not touch.
        const move = entry({ author: 'B', seq: 1, paths: ['a.txt', 'b.txt'], parents: [a.hash, b.hash, c.hash], lamport: 4 });
        await store.appendBatch({ entries: [a, b, c, move] });
        expect((await store.heads('folder-1', 'a.txt')).map((h) => h.hash)).toEqual([move.hash]);
        expect((await store.heads('folder-1', 'b.txt')).map((h) => h.hash)).toEqual([move.hash]);
        expect((await store.heads('folder-1', 'c.txt')).map((h) => h.hash)).toEqual([c.hash]);
        // A move that had not seen what was at its destination leaves a conflict there.
        const d = entry({ author: 'A', seq: 4, paths: ['d.txt'] });
        const e = entry({ author: 'A', seq: 5, paths: ['e.txt'] });
        const blindMove = entry({ author: 'B', seq: 2, paths: ['d.txt', 'e.txt'], parents: [d.hash], lamport: 6 });
        await store.appendBatch({ entries: [blindMove, d, e] });
        expect((await store.heads('folder-1', 'd.txt')).map((h) => h.hash)).toEqual([blindMove.hash]);
        expect((await store.heads('folder-1', 'e.txt')).map((h) => h.hash)).toEqual(sortedHashes([blindMove.hash, e.hash]));
      });

      test('heads are the same whatever the arrival order and batching (property)', async () => {
        // A random DAG over a few paths, built in causal order; then delivered in a random order in random batches.
        const arb = fc.record({
          steps: dagSteps,
          order: fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
          cuts: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
          // Submitted all at once, batches share transactions (group commit); one at a time, they do not.
          concurrent: fc.boolean(),
        });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(arb, async ({ steps, order, cuts, concurrent }) => {
            const folder = `prop-${run++}`;
            const { made, seqs } = dagOf(folder, steps);
            const expected = headsOf(made);
            const shuffled = made.map((e, i) => ({ e, k: order[i] ?? i })).sort((x, y) => x.k - y.k).map((x) => x.e);
            const batches: EntryRecord[][] = [[]];
            for (let i = 0; i < shuffled.length; i++) {
              batches[batches.length - 1].push(shuffled[i]);
              if (cuts[i]) batches.push([]);
            }
            if (concurrent) await Promise.all(batches.map((entries) => store.appendBatch({ entries })));
            else for (const entries of batches) await store.appendBatch({ entries });
            const got = new Map((await collect(store.pathsWithHeads(folder, { pageSize: 2 }))).map((p) => [p.path, p.heads.map((h) => h.hash)]));
            expect(got).toEqual(expected);
            // Every feed arrived whole, so each author's vector is at its last entry.
            const vv = await store.versionVector(folder);
            for (const [a, n] of seqs.entries()) {
              if (n) expect(vv.get(`A${a}`)).toEqual({ seq: n, head: made.filter((e) => e.author === `A${a}`)[n - 1].hash });
              else expect(vv.has(`A${a}`)).toBe(false);
            }
          }),
          { numRuns: 40 },
        );
      });

      test('cutFeed leaves the heads, vectors and lookups of a store that never held the cut entries (property)', async () => {
        const arb = fc.record({
          steps: dagSteps,
          cutAuthor: fc.integer({ min: 0, max: 2 }),
          cutFrom: fc.integer({ min: 1, max: 12 }),
          split: fc.integer({ min: 1, max: 25 }),
        });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(arb, async ({ steps, cutAuthor, cutFrom, split }) => {
            const folder = `cut-${run++}`;
            const { made, seqs } = dagOf(folder, steps);
            const victim = `A${cutAuthor}`;
            const isCut = (e: EntryRecord): boolean => e.author === victim && e.seq >= cutFrom;
            // Two batches, so the cut may run through a chunk or fall between chunks.
            await store.appendBatch({ entries: made.slice(0, split) });
            await store.appendBatch({ entries: made.slice(split) });
            const cps = made.filter((e) => e.author === victim).map((e) => ({ folder, author: victim, seq: e.seq, entryHash: e.hash, signature: Buffer.from('s') }));
            await store.appendBatch({ checkpoints: cps });
            const r = await store.cutFeed(folder, victim, cutFrom);
            const gone = made.filter(isCut);
            expect(r.removed).toBe(gone.length);
            expect(r.hashes).toEqual(gone.map((e) => e.hash));
            expect(r.paths).toEqual([...new Set(gone.flatMap((e) => e.paths))].sort());

            const left = made.filter((e) => !isCut(e));
            const expected = headsOf(left);
            const got = new Map((await collect(store.pathsWithHeads(folder))).map((p) => [p.path, p.heads.map((h) => h.hash)]));
            expect(got).toEqual(expected);
            const kept = Math.min(seqs[cutAuthor], cutFrom - 1);
            const vv = await store.versionVector(folder);
            if (kept > 0) expect(vv.get(victim)).toEqual({ seq: kept, head: left.filter((e) => e.author === victim)[kept - 1].hash });
            else expect(vv.has(victim)).toBe(false);
            for (const e of gone) expect(await store.entry(e.hash)).toBeUndefined();
            for (const e of left) expect(await store.entry(e.hash)).toEqual(e);
            expect((await store.latestCheckpoint(folder, victim))?.seq).toBe(kept > 0 ? kept : undefined);
            // The seq is free again: a new entry there is stored, not taken for a collision.
            const again = entry({ folder, author: victim, seq: kept + 1, label: `${folder}/again`, paths: ['p0'] });
            expect((await store.appendBatch({ entries: [{ ...again, prev: kept > 0 ? left.filter((e) => e.author === victim)[kept - 1].hash : null }] })).entriesInserted).toBe(1);
            expect((await store.versionVector(folder)).get(victim)).toEqual({ seq: kept + 1, head: again.hash });
          }),
          { numRuns: 40 },
        );
      });

      test('cutFeed removes fork evidence at or past the cut and keeps what is below it', async () => {
        const es = feed('A', 1, 6);
        await store.appendBatch({ entries: es });
        const fork = (seq: number) => ({ folder: 'folder-1', author: 'A', seq, hashA: es[seq - 1].hash, hashB: hashOf(`other ${seq}`), bytesA: es[seq - 1].bytes, bytesB: Buffer.from('b'), detectedAtMs: 1 });
        await store.appendBatch({ forks: [fork(2), fork(5)] });
        await store.cutFeed('folder-1', 'A', 4);
        expect((await store.forks('folder-1')).map((f) => f.seq)).toEqual([2]);
        expect(await store.cutFeed('folder-1', 'nobody', 1)).toEqual({ removed: 0, hashes: [], paths: [] });
        await expect(store.cutFeed('folder-1', 'A', 0)).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
      });

      test('pathsWithHeads streams every path once, in order, even when a page splits a conflict', async () => {
        const es: EntryRecord[] = [];
        for (let i = 0; i < 50; i++) {
          es.push(entry({ author: 'A', seq: i + 1, paths: [`p${String(i).padStart(3, '0')}`] }));
          if (i % 7 === 0) es.push(entry({ author: 'B', seq: es.filter((e) => e.author === 'B').length + 1, paths: [`p${String(i).padStart(3, '0')}`] }));
        }
        await store.appendBatch({ entries: es });
        const got = await collect(store.pathsWithHeads('folder-1', { pageSize: 3 }));
        expect(got.map((p) => p.path)).toEqual(Array.from({ length: 50 }, (_, i) => `p${String(i).padStart(3, '0')}`));
        expect(got.filter((p) => p.heads.length === 2).map((p) => p.path)).toEqual(['p000', 'p007', 'p014', 'p021', 'p028', 'p035', 'p042', 'p049']);
        expect(await collect(store.pathsWithHeads('no-such-folder'))).toEqual([]);
      });
    });

    describe('version vectors', () => {
      test('count only contiguous seqs from 1, and catch up when a gap fills', async () => {
        const a = feed('A', 1, 6);
        await store.appendBatch({ entries: [a[3], a[0], a[1]] }); // 4, 1, 2
        await store.appendBatch({ entries: feed('B', 2, 2) }); // B has no seq 1
        let vv = await store.versionVector('folder-1');
        expect(vv.get('A')).toEqual({ seq: 2, head: a[1].hash });
        expect(vv.has('B')).toBe(false);
        await store.appendBatch({ entries: [a[5], a[2]] }); // 6, 3: fills up to 4, not 6
        vv = await store.versionVector('folder-1');
        expect(vv.get('A')).toEqual({ seq: 4, head: a[3].hash });
        await store.appendBatch({ entries: [a[4], entry({ author: 'B', seq: 1, paths: ['B/f1'] })] });
        vv = await store.versionVector('folder-1');
        expect(vv.get('A')).toEqual({ seq: 6, head: a[5].hash });
        expect(vv.get('B')?.seq).toBe(3);
        expect((await store.versionVector('other-folder')).size).toBe(0);
      });
    });

    describe('streamed ranges', () => {
      test('20k entries come back in seq order, page by page', async () => {
        const all = feed('A', 1, 20_000);
        for (let i = 0; i < all.length; i += 5000) await store.appendBatch({ entries: all.slice(i, i + 5000) });
        let n = 0;
        for await (const e of store.entriesRange('folder-1', 'A', 1, 20_000, { pageSize: 700 })) {
          n++;
          if (e.seq !== n || e.hash !== all[n - 1].hash) throw new Error(`entry ${n} out of order`);
        }
        expect(n).toBe(20_000);
        const mid = await collect(store.entriesRange('folder-1', 'A', 9_999, 10_002, { pageSize: 2 }));
        expect(mid.map((e) => e.seq)).toEqual([9_999, 10_000, 10_001, 10_002]);
      });

      test('pages are fetched only when the consumer gets to them (nothing loads the whole log)', async () => {
        await store.appendBatch({ entries: feed('A', 1, 5000) });
        const it = store.entriesRange('folder-1', 'A', 1, 5000, { pageSize: 1000 });
        const first = await it.next();
        expect(first.value?.seq).toBe(1);
        // Closing now leaves only the page in hand: the next page fetch must fail.
        await store.close();
        let seen = 1;
        const err = await (async () => {
          for await (const _ of it) seen++;
        })().catch((e) => e);
        expect(seen).toBe(1000);
        expect(isStoreError(err, 'STORE_CLOSED')).toBe(true);
        store = await open(file);
      });

      test('a stream stops with STORE_ABORTED when its signal fires', async () => {
        await store.appendBatch({ entries: feed('A', 1, 50) });
        const ac = new AbortController();
        let seen = 0;
        const err = await (async () => {
          for await (const _ of store.entriesRange('folder-1', 'A', 1, 50, { pageSize: 10, signal: ac.signal })) if (++seen === 15) ac.abort();
        })().catch((e) => e);
        expect(seen).toBe(20);
        expect(isStoreError(err, 'STORE_ABORTED')).toBe(true);
      });
    });

    describe('checkpoints', () => {
      test('latest and covering', async () => {
        const es = feed('A', 1, 30);
        const cp = (seq: number) => ({ folder: 'folder-1', author: 'A', seq, entryHash: es[seq - 1].hash, signature: Buffer.from(`sig-${seq}`) });
        await store.appendBatch({ entries: es.slice(0, 10), checkpoints: [cp(10)] });
        await store.appendBatch({ entries: es.slice(10), checkpoints: [cp(20), cp(30)] });
        expect(await store.latestCheckpoint('folder-1', 'A')).toEqual(cp(30));
        expect(await store.latestCheckpoint('folder-1', 'B')).toBeUndefined();
        expect((await store.checkpointsCovering('folder-1', 'A', 5, 12)).map((c) => c.seq)).toEqual([10, 20]);
        expect((await store.checkpointsCovering('folder-1', 'A', 11, 20)).map((c) => c.seq)).toEqual([20]);
        expect((await store.checkpointsCovering('folder-1', 'A', 1, 35)).map((c) => c.seq)).toEqual([10, 20, 30]);
        // The first checkpoint stored at a seq stays.
        const r = await store.appendBatch({ checkpoints: [{ ...cp(10), signature: Buffer.from('another signature') }] });
        expect(r.checkpointsInserted).toBe(0);
        expect((await store.checkpointsCovering('folder-1', 'A', 1, 10))[0].signature.toString()).toBe('sig-10');
      });
    });

    describe('forks', () => {
      test('evidence is kept once, with both encodings', async () => {
        const fork = {
          folder: 'folder-1',
          author: 'A',
          seq: 7,
          hashA: hashOf('x'),
          hashB: hashOf('y'),
          bytesA: Buffer.from('x'),
          bytesB: Buffer.from('y'),
          detectedAtMs: 1_700_000_000_000,
        };
        expect((await store.appendBatch({ forks: [fork] })).forksInserted).toBe(1);
        expect((await store.appendBatch({ forks: [fork] })).forksInserted).toBe(0);
        expect(await store.forks('folder-1')).toEqual([fork]);
        expect(await store.forks('folder-2')).toEqual([]);
        const proven = {
          ...fork,
          seq: 8,
          proof: { entries: [Buffer.from('e8a'), Buffer.alloc(0), Buffer.from('e9a')], checkpoints: [Buffer.from('cp-a'), Buffer.from('cp-b')] },
        };
        await store.appendBatch({ forks: [proven] });
        expect(await store.forks('folder-1')).toEqual([fork, proven]);
        const same = await store.appendBatch({ forks: [{ ...fork, hashB: fork.hashA }] }).catch((e) => e);
        expect(isStoreError(same, 'STORE_INVALID_ARGUMENT')).toBe(true);
      });
    });

    describe('manifests', () => {
      const m = (folder: string, version: number, label: string, prev: string | null, overruled = false): ManifestRecord => ({
        folder,
        version,
        hash: hashOf(label),
        prev: prev && hashOf(prev),
        author: `admin-${label}`,
        bytes: Buffer.from(`manifest ${label}`),
        signature: Buffer.from(`sig ${label}`),
        overruled,
      });

      test('chain, latest non-overruled version, and folders', async () => {
        expect(await store.latestManifest('f')).toBeUndefined();
        await store.putManifest(m('f', 1, 'genesis', null));
        await store.putManifest(m('f', 2, 'edit-x', 'genesis'));
        await store.putManifest(m('f', 2, 'edit-y', 'genesis', true));
        await store.putManifest(m('g', 1, 'g-genesis', null));
        const chain = await store.manifestChain('f');
        expect(chain.map((x) => [x.version, x.overruled])).toEqual([
          [1, false],
          ...[
            [hashOf('edit-x'), false],
            [hashOf('edit-y'), true],
          ]
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
            .map(([, o]) => [2, o]),
        ]);
        expect(chain[0]).toEqual(m('f', 1, 'genesis', null));
        expect(await store.latestManifest('f')).toEqual(m('f', 2, 'edit-x', 'genesis'));
        // A later resolution flips which one is overruled.
        await store.putManifest(m('f', 2, 'edit-x', 'genesis', true));
        await store.putManifest(m('f', 2, 'edit-y', 'genesis', false));
        expect((await store.latestManifest('f'))?.hash).toBe(hashOf('edit-y'));
        expect(await store.manifestChain('f')).toHaveLength(3);
        // Folders with entries but no manifest are not listed.
        await store.appendBatch({ entries: [entry({ folder: 'h', seq: 1 })] });
        expect(await store.listFolders()).toEqual(['f', 'g']);
      });
    });

    describe('local index', () => {
      const lf = (p: string, size = 1) => ({ folder: 'folder-1', path: p, size, mtimeMs: 1_700_000_000_123.456, inode: 99, mode: 0o644, contentHash: hashOf(p), type: 'file' as const });

      test('upsert, read, stream in path order, delete', async () => {
        await store.upsertLocalFiles([lf('b'), lf('a'), { ...lf('dir'), type: 'dir', contentHash: null }, lf('c')]);
        expect(await store.localFile('folder-1', 'a')).toEqual(lf('a'));
        await store.upsertLocalFiles([lf('a', 500)]);
        expect((await store.localFile('folder-1', 'a'))?.size).toBe(500);
        expect((await collect(store.localFiles('folder-1', { pageSize: 2 }))).map((f) => f.path)).toEqual(['a', 'b', 'c', 'dir']);
        expect((await store.localFile('folder-1', 'dir'))?.contentHash).toBeNull();
        expect(await store.deleteLocalFiles('folder-1', ['a', 'c', 'missing'])).toBe(2);
        expect((await collect(store.localFiles('folder-1'))).map((f) => f.path)).toEqual(['b', 'dir']);
        expect(await store.localFile('folder-1', 'a')).toBeUndefined();
        expect(await store.localFile('other', 'b')).toBeUndefined();
      });

      test('rows of many paths at once: present ones only, across statement chunks', async () => {
        const paths = Array.from({ length: 700 }, (_, i) => `d/f${i}`);
        await store.upsertLocalFiles(paths.filter((_, i) => i % 2 === 0).map((p) => lf(p)));
        const rows = await store.localFilesAt('folder-1', [...paths, 'd/f0', 'missing']);
        expect(rows.size).toBe(350);
        expect(rows.get('d/f0')).toEqual(lf('d/f0'));
        expect(rows.get('d/f698')).toEqual(lf('d/f698'));
        expect(rows.has('d/f1')).toBe(false);
        expect((await store.localFilesAt('other', paths)).size).toBe(0);
        expect((await store.localFilesAt('folder-1', [])).size).toBe(0);
      });

      test('reads give the last committed row, for rows just written and rows written long before', async () => {
        // More rows than a store keeps in memory: the oldest are read back from the table.
        const paths = Array.from({ length: 9000 }, (_, i) => `m/f${i}`);
        await store.upsertLocalFiles(paths.map((p) => lf(p)));
        const expected = new Map(paths.map((p) => [p, lf(p)]));
        await store.upsertLocalFiles(paths.filter((_, i) => i % 3 === 0).map((p) => lf(p, 77)));
        for (const [i, p] of paths.entries()) if (i % 3 === 0) expected.set(p, lf(p, 77));
        const gone = paths.filter((_, i) => i % 5 === 0);
        expect(await store.deleteLocalFiles('folder-1', gone)).toBe(gone.length);
        for (const p of gone) expected.delete(p);
        const rows = await store.localFilesAt('folder-1', paths);
        expect(rows).toEqual(expected);
        for (const p of ['m/f0', 'm/f1', 'm/f3', 'm/f8999', 'm/f8998']) expect(await store.localFile('folder-1', p)).toEqual(expected.get(p));
        // What a caller does with a row it was given changes nothing stored.
        const row = (await store.localFile('folder-1', 'm/f8998'))!;
        row.size = 12345;
        (await store.localFilesAt('folder-1', ['m/f8998'])).get('m/f8998')!.inode = 1;
        expect(await store.localFile('folder-1', 'm/f8998')).toEqual(lf('m/f8998'));
      });
    });

    describe('local base', () => {
      const h = (n: number): string => n.toString(16).padStart(64, '0');

      test('set, read one, read many at once, forget', async () => {
        await store.setLocalBases('folder-1', [{ path: 'a', hashes: [h(1)] }, { path: 'b', hashes: [h(2), h(3)] }]);
        await store.setLocalBases('folder-1', Array.from({ length: 600 }, (_, i) => ({ path: `d/f${i}`, hashes: [h(i + 10)] })));
        await store.setLocalBases('folder-1', [{ path: 'a', hashes: [h(4)] }]);
        expect(await store.localBase('folder-1', 'a')).toEqual([h(4)]);
        const many = await store.localBasesAt('folder-1', ['a', 'b', 'none', ...Array.from({ length: 600 }, (_, i) => `d/f${i}`)]);
        expect(many.size).toBe(602);
        expect(many.get('b')).toEqual([h(2), h(3)]);
        expect(many.get('d/f599')).toEqual([h(609)]);
        expect(many.has('none')).toBe(false);
        expect((await store.localBasesAt('other', ['a'])).size).toBe(0);
        expect(await store.deleteLocalBases('folder-1', ['a', 'none'])).toBe(1);
        expect(await store.localBase('folder-1', 'a')).toBeUndefined();
      });
    });

    describe('block index', () => {
      test('add, find, remove per file', async () => {
        const h1 = hashOf('block-1');
        const h2 = hashOf('block-2');
        await store.addBlockLocations([
          { hash: h1, size: 128, folder: 'folder-1', path: 'a', offset: 0 },
          { hash: h2, size: 128, folder: 'folder-1', path: 'a', offset: 128 },
          { hash: h1, size: 128, folder: 'folder-2', path: 'copy', offset: 256 },
        ]);
        expect(await store.findBlock(h1)).toEqual([
          { hash: h1, size: 128, folder: 'folder-1', path: 'a', offset: 0 },
          { hash: h1, size: 128, folder: 'folder-2', path: 'copy', offset: 256 },
        ]);
        expect(await store.findBlock(h1, 1)).toHaveLength(1);
        // Many at once: the same answers per hash, a hash found nowhere absent.
        const h3 = hashOf('nowhere');
        const many = await store.findBlocks([h1, h2, h3, h1]);
        expect([...many.keys()].sort()).toEqual([h1, h2].sort());
        expect(many.get(h1)).toEqual(await store.findBlock(h1));
        expect(many.get(h2)).toEqual(await store.findBlock(h2));
        expect((await store.findBlocks([h1, h2], 1)).get(h1)).toEqual([{ hash: h1, size: 128, folder: 'folder-1', path: 'a', offset: 0 }]);
        expect(await store.findBlocks([])).toEqual(new Map());
        expect(await store.removeBlockLocations('folder-1', 'a')).toBe(2);
        expect(await store.findBlock(h2)).toEqual([]);
        expect((await store.findBlock(h1)).map((l) => l.folder)).toEqual(['folder-2']);
      });
    });

    describe('refused entries', () => {
      test('remembered per folder, found among hashes asked, forgotten by author', async () => {
        const [x, y, z] = ['x', 'y', 'z'].map(hashOf);
        await store.addRefused('folder-1', [{ hash: x, author: 'A' }, { hash: y, author: 'B' }, { hash: x, author: 'A' }]);
        await store.addRefused('folder-2', [{ hash: z, author: 'A' }]);
        expect(await store.refusedAmong('folder-1', [x, y, z])).toEqual(new Set([x, y]));
        expect(await store.refusedAmong('no-such-folder', [x])).toEqual(new Set());
        await store.forgetRefused('folder-1', ['A']);
        expect(await store.refusedAmong('folder-1', [x, y])).toEqual(new Set([y]));
        expect(await store.refusedAmong('folder-2', [z])).toEqual(new Set([z]));
        await expect(store.addRefused('folder-1', [{ hash: 'nope', author: 'A' }])).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
      });
    });

    describe('peer vectors', () => {
      test('set replaces the whole vector', async () => {
        await store.setPeerVector('folder-1', 'peer-1', new Map([['A', 10], ['B', 3]]));
        await store.setPeerVector('folder-1', 'peer-2', new Map([['A', 1]]));
        expect(await store.peerVector('folder-1', 'peer-1')).toEqual(new Map([['A', 10], ['B', 3]]));
        await store.setPeerVector('folder-1', 'peer-1', new Map([['A', 12]]));
        expect(await store.peerVector('folder-1', 'peer-1')).toEqual(new Map([['A', 12]]));
        expect(await store.peerVector('folder-1', 'peer-2')).toEqual(new Map([['A', 1]]));
        expect(await store.peerVector('folder-1', 'nobody')).toEqual(new Map());
        expect(await store.peerVectors('folder-1')).toEqual([
          { folder: 'folder-1', peer: 'peer-1', author: 'A', seq: 12 },
          { folder: 'folder-1', peer: 'peer-2', author: 'A', seq: 1 },
        ]);
        expect(await store.peerVectors('folder-9')).toEqual([]);
      });
    });

    describe('forgetting a folder', () => {
      /** Everything of one folder that a node holds: a feed with a checkpoint, a manifest, a local file, a block, a peer vector, a refusal. */
      async function fill(folder: string): Promise<EntryRecord[]> {
        const es = feed('A', 1, 3, folder);
        await store.appendBatch({ entries: es, checkpoints: [{ folder, author: 'A', seq: 3, entryHash: es[2].hash, signature: Buffer.from('s') }] });
        await store.putManifest({ folder, version: 1, hash: hashOf(`m-${folder}`), prev: null, author: 'x', bytes: Buffer.from('m'), signature: Buffer.from('s'), overruled: false });
        await store.upsertLocalFiles([{ folder, path: 'A/f1', size: 1, mtimeMs: 2, inode: 3, mode: 4, contentHash: null, type: 'file' }]);
        await store.addBlockLocations([{ hash: hashOf(`b-${folder}`), size: 1, folder, path: 'A/f1', offset: 0 }]);
        await store.setPeerVector(folder, 'p', new Map([['A', 3]]));
        await store.addRefused(folder, [{ hash: hashOf(`r-${folder}`), author: 'B' }]);
        return es;
      }
      const held = async (folder: string) => ({
        vv: [...(await store.versionVector(folder)).keys()],
        heads: (await collect(store.pathsWithHeads(folder))).length,
        cp: (await store.latestCheckpoint(folder, 'A')) !== undefined,
        manifests: (await store.manifestChain(folder)).length,
        local: (await collect(store.localFiles(folder))).length,
        cachedLocal: (await store.localFilesAt(folder, ['A/f1'])).size,
        blocks: (await store.findBlocks([hashOf(`b-${folder}`)])).size,
        peers: (await store.peerVectors(folder)).length,
        refused: (await store.refusedAmong(folder, [hashOf(`r-${folder}`)])).size,
      });
      const full = { vv: ['A'], heads: 3, cp: true, manifests: 1, local: 1, cachedLocal: 1, blocks: 1, peers: 1, refused: 1 };

      test('removes every row of that folder and no other, and the folder can be held again from seq 1', async () => {
        await fill('folder-1');
        await fill('folder-2');
        expect(await held('folder-1')).toEqual(full);
        expect(await store.forgetFolder('folder-1')).toBeGreaterThan(0);
        expect(await held('folder-1')).toEqual({ vv: [], heads: 0, cp: false, manifests: 0, local: 0, cachedLocal: 0, blocks: 0, peers: 0, refused: 0 });
        expect(await held('folder-2')).toEqual(full);
        expect(await store.forgetFolder('no-such-folder')).toBe(0);
        // Joined again: the same seqs and manifest version are taken anew, not refused as duplicates or forks.
        await fill('folder-1');
        expect(await held('folder-1')).toEqual(full);
      });
    });

    describe('lifecycle', () => {
      test('reopening keeps everything and runs no migration twice', async () => {
        expect(store.migrationsApplied.length).toBeGreaterThan(0);
        const es = feed('A', 1, 3);
        const move = entry({ author: 'B', seq: 1, paths: ['A/f1', 'A/f2'], parents: [es[0].hash] });
        await store.appendBatch({ entries: [...es, move], checkpoints: [{ folder: 'folder-1', author: 'A', seq: 3, entryHash: es[2].hash, signature: Buffer.from('s') }] });
        await store.putManifest({ folder: 'folder-1', version: 1, hash: hashOf('m'), prev: null, author: 'x', bytes: Buffer.from('m'), signature: Buffer.from('s'), overruled: false });
        await store.upsertLocalFiles([{ folder: 'folder-1', path: 'A/f1', size: 1, mtimeMs: 2, inode: 3, mode: 4, contentHash: null, type: 'file' }]);
        await store.addBlockLocations([{ hash: hashOf('b'), size: 1, folder: 'folder-1', path: 'A/f1', offset: 0 }]);
        await store.setPeerVector('folder-1', 'p', new Map([['A', 3]]));
        const before = {
          vv: await store.versionVector('folder-1'),
          heads: await collect(store.pathsWithHeads('folder-1')),
          range: await collect(store.entriesRange('folder-1', 'A', 1, 3)),
          cp: await store.latestCheckpoint('folder-1', 'A'),
          manifest: await store.latestManifest('folder-1'),
          local: await collect(store.localFiles('folder-1')),
          block: await store.findBlock(hashOf('b')),
          peer: await store.peerVector('folder-1', 'p'),
        };
        await store.close();
        store = await open(file);
        expect(store.migrationsApplied).toEqual([]);
        expect({
          vv: await store.versionVector('folder-1'),
          heads: await collect(store.pathsWithHeads('folder-1')),
          range: await collect(store.entriesRange('folder-1', 'A', 1, 3)),
          cp: await store.latestCheckpoint('folder-1', 'A'),
          manifest: await store.latestManifest('folder-1'),
          local: await collect(store.localFiles('folder-1')),
          block: await store.findBlock(hashOf('b')),
          peer: await store.peerVector('folder-1', 'p'),
        }).toEqual(before);
        expect(before.heads.map((p) => p.path)).toEqual(['A/f1', 'A/f2', 'A/f3']);
      });

      test('calls after close fail with STORE_CLOSED; close is idempotent', async () => {
        await store.close();
        await store.close();
        const errs = await Promise.all([
          store.appendBatch({ entries: feed('A', 1, 1) }).catch((e) => e),
          store.versionVector('folder-1').catch((e) => e),
          store.entry(hashOf('x')).catch((e) => e),
          store.upsertLocalFiles([{ folder: 'f', path: 'p', size: 1, mtimeMs: 1, inode: 1, mode: 1, contentHash: null, type: 'file' }]).catch((e) => e),
        ]);
        for (const e of errs) expect(isStoreError(e, 'STORE_CLOSED')).toBe(true);
        store = await open(file);
      });

      test('close waits for writes already queued', async () => {
        const pending = store.appendBatch({ entries: feed('A', 1, 2000) });
        await store.close();
        await expect(pending).resolves.toMatchObject({ entriesInserted: 2000 });
        store = await open(file);
        expect((await store.versionVector('folder-1')).get('A')?.seq).toBe(2000);
      });
    });
  });
}
