import { folderStatus, peerStatus, validPart, PEER_ANSWER_MS, type PeerFacts } from '../../../plugin/src/folders';

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

test('an online member that has not said what it has in this link’s life is checking, and so is the folder, never in sync', () => {
  const ours = v({ A: 5 });
  expect(peerStatus(ours, peer({}))).toMatchObject({ state: 'checking', weLackEntries: 0, theyLackEntries: 0, vector: 'none' });
  const s = folderStatus({ ...base, ours, peers: [peer({}), peer({ fingerprint: 'C', name: 'Carol', advertised: v({ A: 5 }) })] });
  expect(s.state).toBe('checking');
  expect(s.peers.map((p) => p.state)).toEqual(['checking', 'in-sync']);
  // Once it speaks, the design's rule decides again.
  expect(folderStatus({ ...base, ours, peers: [peer({ advertised: v({ A: 5 }) })] }).state).toBe('in-sync');
  // An invited member who has not joined is not waited for; an offline one neither.
  expect(folderStatus({ ...base, ours, peers: [peer({ joined: false }), peer({ fingerprint: 'C', name: 'Carol', advertised: v({ A: 5 }) })] }).state).toBe('in-sync');
  expect(folderStatus({ ...base, ours, peers: [peer({ online: false }), peer({ fingerprint: 'C', name: 'Carol', advertised: v({ A: 5 }) })] }).state).toBe('in-sync');
});

test('an online member silent for PEER_ANSWER_MS does not answer: it holds nothing up, and with no one else answering the folder is offline', () => {
  const ours = v({ A: 5 });
  expect(peerStatus(ours, peer({ silentMs: PEER_ANSWER_MS - 1 })).state).toBe('checking');
  expect(peerStatus(ours, peer({ silentMs: PEER_ANSWER_MS }))).toMatchObject({ state: 'no-answer', online: true });
  // A vector, even an old one, does not make it answer; having spoken does (silentMs is then undefined).
  expect(peerStatus(ours, peer({ silentMs: PEER_ANSWER_MS, lastKnown: v({ A: 7 }) }))).toMatchObject({ state: 'no-answer', weLackEntries: 2, vector: 'last-known' });
  const carol = peer({ fingerprint: 'C', name: 'Carol', advertised: v({ A: 5 }) });
  expect(folderStatus({ ...base, ours, peers: [peer({ silentMs: PEER_ANSWER_MS }), carol] }).state).toBe('in-sync');
  expect(folderStatus({ ...base, ours, peers: [peer({ silentMs: PEER_ANSWER_MS })] }).state).toBe('offline');
  // The wait is the caller's to set.
  expect(folderStatus({ ...base, ours, peers: [peer({ silentMs: 50 })] }, 50).state).toBe('offline');
});

test('until a peer speaks, its last known vector counts what we lack, as a lower bound marked last known', () => {
  // Restarted: Bob said A to 9 and B to 4 before; we hold A to 5, B to 4.
  const ours = v({ A: 5, B: 4 });
  const bob = peer({ lastKnown: v({ A: 9, B: 4 }) });
  expect(peerStatus(ours, bob)).toMatchObject({ state: 'checking', weLackEntries: 4, theyLackEntries: 0, vector: 'last-known' });
  const s = folderStatus({ ...base, ours, peers: [bob] });
  expect(s).toMatchObject({ behindEntries: 4, behindEntriesLastKnown: true });
  // Caught up with B only, one of two writers: behind already, whatever Bob says next.
  expect(s.state).toBe('behind');
  // Caught up with a majority by what we know: checking until Bob speaks, the count still shown.
  const three = folderStatus({ ...base, ours: v({ A: 5, B: 4, C: 1 }), peers: [bob] });
  expect(three).toMatchObject({ state: 'checking', behindEntries: 4, behindEntriesLastKnown: true });
  // What Bob says in this link's life replaces it.
  const fresh = folderStatus({ ...base, ours, peers: [peer({ lastKnown: v({ A: 9, B: 4 }), advertised: v({ A: 12, B: 4 }) })] });
  expect(fresh).toMatchObject({ state: 'behind', behindEntries: 7, behindEntriesLastKnown: false });
  expect(fresh.peers[0]).toMatchObject({ state: 'ahead', weLackEntries: 7, vector: 'fresh' });
  expect(folderStatus({ ...base, ours, peers: [peer({ lastKnown: v({ A: 9, B: 4 }), advertised: v({ A: 5, B: 4 }) })] })).toMatchObject({ state: 'in-sync', behindEntries: 0 });
});

test('an offline member’s last known vector still counts what we lack; a file waiting keeps the folder behind while a peer is checking', () => {
  const ours = v({ A: 5, B: 4, C: 2 });
  const bob = peer({ online: false, lastKnown: v({ A: 8 }) });
  const carol = peer({ fingerprint: 'C', name: 'Carol', advertised: v({ A: 5, B: 4, C: 2 }) });
  const s = folderStatus({ ...base, ours, peers: [bob, carol] });
  expect(s).toMatchObject({ state: 'in-sync', behindEntries: 3, behindEntriesLastKnown: true });
  expect(s.peers[0]).toMatchObject({ state: 'offline', weLackEntries: 3, vector: 'last-known' });
  expect(folderStatus({ ...base, pendingFiles: 2, ours, peers: [peer({})] }).state).toBe('behind');
});

test('a feed past a revoked member’s last valid seq, in a peer’s vector, does not leave the folder behind', () => {
  const ours = v({ A: 5, R: 2 });
  const stale = v({ A: 5, R: 4 }); // said before the revocation reached the peer
  const maxSeq = (author: string): number => (author === 'R' ? 2 : Infinity);
  expect(folderStatus({ ...base, ours, peers: [peer({ advertised: stale })] })).toMatchObject({ state: 'behind', behindEntries: 2 });
  expect(folderStatus({ ...base, ours, peers: [peer({ advertised: validPart(stale, maxSeq) })] })).toMatchObject({ state: 'in-sync', behindEntries: 0 });
  expect([...(validPart(stale, maxSeq)?.keys() ?? [])]).toEqual(['A', 'R']);
  expect(validPart(undefined, maxSeq)).toBeUndefined();
});
