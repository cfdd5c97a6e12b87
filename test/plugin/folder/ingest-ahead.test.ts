/**
 * An ingest resolves once the entries are stored; their apply runs behind it (a catch-up's log
 * gets ahead of its files), unless too many paths already wait, when the ingest waits for the
 * apply. Entries past the in-memory limit are read back from the store for apply.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { FolderEvent } from '../../../plugin/src/folder';
import { Cluster, converged, holds, lacking, until, type Node } from './helpers';

jest.setTimeout(120_000);

const cluster = new Cluster();
beforeAll(() => cluster.init());
afterEach(() => cluster.cleanup());

const FILES = 12;

async function aliceWithFiles(): Promise<Node> {
  const alice = await cluster.node('alice');
  for (let i = 0; i < FILES; i++) {
    await fsp.mkdir(path.join(alice.root, `d${i % 3}`), { recursive: true });
    await fsp.writeFile(path.join(alice.root, `d${i % 3}`, `f${i}.txt`), `file ${i}`);
  }
  await until([alice.engine], async () => {
    for (let i = 0; i < FILES; i++) if (!(await holds(alice, `d${i % 3}/f${i}.txt`, `file ${i}`))) return false;
    return true;
  }, 'alice announcing her files');
  return alice;
}

/** Hands Bob what Alice has in one ingest; the events Bob's engine emitted before it resolved. */
async function ingestAll(alice: Node, bob: Node, more = false): Promise<FolderEvent[]> {
  const input = await lacking(alice, bob);
  const seen: FolderEvent[] = [];
  const sub = bob.engine.events.subscribe((e) => seen.push(e));
  try {
    const res = await bob.engine.ingest(input, { peer: alice.id.fingerprint, more });
    expect(res.refusals).toEqual([]);
    expect(res.accepted).toBeGreaterThanOrEqual(FILES);
    return [...seen];
  } finally {
    sub.unsubscribe();
  }
}

const applied = (events: readonly FolderEvent[]): string[] => events.flatMap((e) => (e.type === 'folder:applied' ? e.paths : []));

test('an ingest resolves before its apply ran; idle() waits for the files, read back from the store past the memory limit', async () => {
  const alice = await aliceWithFiles();
  // No entry is held in memory: apply reads every one back from the store.
  const bob = await cluster.node('bob', alice, {}, { recentEntries: 0 });
  alice.peer = bob;
  bob.peer = alice;
  const before = await ingestAll(alice, bob);
  expect(applied(before).filter((p) => p.endsWith('.txt'))).toEqual([]);
  await bob.engine.idle();
  for (let i = 0; i < FILES; i++) expect(await holds(bob, `d${i % 3}/f${i}.txt`, `file ${i}`)).toBe(true);
  await until([alice.engine, bob.engine], () => converged(alice, bob), 'one state on both');
});

test('with more paths waiting than the limit, an ingest waits for their apply', async () => {
  const alice = await aliceWithFiles();
  const bob = await cluster.node('bob', alice, {}, { ingestAheadPaths: 1 });
  alice.peer = bob;
  bob.peer = alice;
  const before = await ingestAll(alice, bob);
  expect(applied(before).filter((p) => p.endsWith('.txt')).sort()).toEqual(Array.from({ length: FILES }, (_, i) => `d${i % 3}/f${i}.txt`).sort());
  for (let i = 0; i < FILES; i++) expect(await holds(bob, `d${i % 3}/f${i}.txt`, `file ${i}`)).toBe(true);
});

test('an ingest that says more follows leaves its apply waiting, at most applyDeferMs; idle() waits for it', async () => {
  const alice = await aliceWithFiles();
  const bob = await cluster.node('bob', alice, {}, { applyDeferMs: 400 });
  alice.peer = bob;
  bob.peer = alice;
  const seen: FolderEvent[] = [];
  const sub = bob.engine.events.subscribe((e) => seen.push(e));
  const t0 = Date.now();
  const before = await ingestAll(alice, bob, true);
  expect(applied(before)).toEqual([]);
  // Nothing else comes: the files arrive once the deferral ran out, and idle() waits for that.
  await bob.engine.idle();
  sub.unsubscribe();
  const firstApply = seen.findIndex((e) => e.type === 'folder:applied');
  expect(firstApply).toBeGreaterThanOrEqual(0);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  for (let i = 0; i < FILES; i++) expect(await holds(bob, `d${i % 3}/f${i}.txt`, `file ${i}`)).toBe(true);
});
