import { folderStatus, peerStatus, type PeerFacts } from '../../../plugin/src/folders';

const v = (o: Record<string, number>) => new Map(Object.entries(o).map(([a, seq]) => [a, { seq }]));
const peer = (over: Partial<PeerFacts>): PeerFacts => ({ fingerprint: 'B', name: 'Bob', online: true, joined: true, openPaths: [], ...over });
const base = { pendingFiles: 0, pendingBytes: 0, requestsInFlight: 0, rateHistory: [0], conflicts: 0 };

test('in sync needs a majority of the writers seen caught up and no file waiting', () => {
  // We hold A to 5, B to 3; Bob advertised B to 3 and C to 2: caught up with A and B, behind on C: 2 of 3.
  const s = folderStatus({ ...base, ours: v({ A: 5, B: 3 }), peers: [peer({ advertised: v({ B: 3, C: 2 }) })] });
  expect(s.state).toBe('in-sync');
  expect(s.behindEntries).toBe(2);
  // Behind on two of three writers: behind.
  expect(folderStatus({ ...base, ours: v({ A: 5, B: 1 }), peers: [peer({ advertised: v({ B: 3, C: 2 }) })] }).state).toBe('behind');
  // A file waiting for blocks: behind, whatever the vectors say.
  expect(folderStatus({ ...base, pendingFiles: 1, ours: v({ A: 5 }), peers: [peer({ advertised: v({ A: 5 }) })] }).state).toBe('behind');
});

test('transferring while blocks move; offline when no other member is online; alone is in sync', () => {
  expect(folderStatus({ ...base, requestsInFlight: 3, ours: v({ A: 1 }), peers: [peer({ advertised: v({ A: 1 }) })] }).state).toBe('transferring');
  expect(folderStatus({ ...base, ours: v({ A: 1 }), peers: [peer({ online: false })] }).state).toBe('offline');
  expect(folderStatus({ ...base, ours: v({ A: 1 }), peers: [] }).state).toBe('in-sync');
});

test('each peer: declined, not joined, ahead, behind, in sync, and what each side lacks', () => {
  const ours = v({ A: 5, B: 2 });
  expect(peerStatus(ours, peer({ refusal: 'DECLINED' })).state).toBe('declined');
  expect(peerStatus(ours, peer({ refusal: 'UNKNOWN_FOLDER' })).state).toBe('not-joined');
  expect(peerStatus(ours, peer({ joined: false })).state).toBe('not-joined');
  expect(peerStatus(ours, peer({ online: false, advertised: v({ A: 5 }) })).state).toBe('offline');
  expect(peerStatus(ours, peer({ advertised: v({ A: 5, B: 4 }) }))).toMatchObject({ state: 'ahead', weLackEntries: 2, theyLackEntries: 0 });
  expect(peerStatus(ours, peer({ advertised: v({ A: 3 }) }))).toMatchObject({ state: 'behind', weLackEntries: 0, theyLackEntries: 4 });
  expect(peerStatus(ours, peer({ advertised: v({ A: 5, B: 2 }), openPaths: ['x.txt'] }))).toMatchObject({ state: 'in-sync', openPaths: ['x.txt'] });
});
