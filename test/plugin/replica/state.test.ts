import fc from 'fast-check';
import type { EntryBody } from '../../../plugin/src/log';
import { Fixture, fileMeta, put, referenceStateHash } from './helpers';

const fx = new Fixture();
beforeAll(() => fx.init());
afterEach(() => fx.cleanup());

// Names whose UTF-8 order differs from tree order ('a b' and 'a.txt' sort before 'a/…'),
// and characters where UTF-16 and UTF-8 orders disagree.
const SEGMENTS = ['a', 'a b', 'a.txt', 'a-', 'b', 'é', '\u{1F600}', '\uE000'];

type Op = { kind: 'put' | 'delete'; path: string } | { kind: 'move'; from: string; to: string };

const path = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), path }),
  fc.record({ kind: fc.constant('put' as const), path }),
  fc.record({ kind: fc.constant('delete' as const), path }),
  fc.record({ kind: fc.constant('move' as const), from: path, to: path }),
);

describe('ReplicaState (streamed from the store)', () => {
  it('gives the same state hash as the log’s FolderState over the same entries, for tricky trees', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), async (batches) => {
        const alice = await fx.create('alice', [fx.member('alice', 'admin')]);
        try {
          let n = 0;
          for (const batch of batches) {
            const changes = [];
            for (const o of batch) {
              // Parents as a scanner would name them: the heads it sees (some ops name none: concurrent-looking).
              const body: EntryBody =
                o.kind === 'move' ? { op: 'move', from: o.from, to: o.to, meta: fileMeta(`m${n++}`) } : o.kind === 'delete' ? { op: 'delete', path: o.path } : put(o.path, `v${n++}`);
              const parents = n % 3 === 0 ? [] : await alice.parentsOf(o.kind === 'move' ? o.from : o.path);
              changes.push(fx.change('alice', body, parents));
            }
            await alice.appendLocal(changes);
          }
          expect(await alice.state.stateHash()).toBe(await referenceStateHash(fx.stores[fx.stores.length - 1], alice));
        } finally {
          await fx.cleanup();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a deleted file whose name becomes a directory, beside names that sort between them', async () => {
    const alice = await fx.create('alice', [fx.member('alice', 'admin')]);
    await alice.appendLocal([fx.change('alice', put('a')), fx.change('alice', put('a.txt')), fx.change('alice', put('a b'))]);
    await alice.appendLocal([fx.change('alice', { op: 'delete', path: 'a' }, await alice.parentsOf('a'))]);
    await alice.appendLocal([fx.change('alice', put('a/inner'))]);
    const h = await alice.state.stateHash();
    expect(h).toBe(await referenceStateHash(fx.stores[0], alice));
    expect((await alice.state.resolve('a'))?.winner.live).toBe(false);
    // An empty folder has a state hash too, and it differs.
    const empty = await fx.create('bob', [fx.member('bob', 'admin')]);
    expect(await empty.state.stateHash()).toBe(await referenceStateHash(fx.stores[1], empty));
    expect(await empty.state.stateHash()).not.toBe(h);
  });
});
