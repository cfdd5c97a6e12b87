/**
 * After a restart, a folder is not "in sync" until its online peers have said what they have:
 * a user who sees "in sync" may shut the machine down believing the files are there.
 */
import { firstValueFrom, filter, timeout } from 'rxjs';
import { Net, read, until, write } from './helpers';

jest.setTimeout(120_000);

const net = new Net();
afterEach(() => net.cleanup());

const FILES = 20;
const text = (i: number): string => `written while carol was away ${i}`;

test('a sidecar restarted after a peer wrote while it was away says checking, from the peer’s last known vector, until the peer speaks; in sync once caught up', async () => {
  // Long enough for the checks of 'checking' below on a loaded machine, short enough to wait for.
  net.serviceOptions = { peerAnswerMs: 8_000 };
  const alice = await net.node('Alice');
  const carol = await net.node('Carol');
  await net.friends(alice, carol);
  const folder = await net.create(alice, 'Shared', { 'seed.txt': 'seed' });
  const aliceRoot = net.root(alice, 'Shared');
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'seed.txt' && f.state === 'synced'), 'alice announcing the seed');
  const carolRoot = await net.invite(alice, folder, carol, 'reader');
  await until([alice, carol], async () => (await read(carolRoot, 'seed.txt')) === 'seed' && (await carol.service.folder(folder)).status.state === 'in-sync', 'carol in sync with the seed');

  // Carol's sidecar goes away (her host stays up); Alice writes.
  await net.stopService(carol);
  for (let i = 0; i < FILES; i++) await write(aliceRoot, `away/${i}.txt`, text(i));
  await until([alice], async () => (await alice.service.files(folder, 'away')).filter((f) => f.state === 'synced').length === FILES, 'alice announcing what she wrote');

  // Alice's sidecar stops too, her host staying up: Carol restarts, sees Alice online, and nobody
  // answers her Vector. Before the fix this said "in sync, behind 0".
  await net.stopService(alice);
  await net.startService(carol);
  // Her panel is told when the wait for Alice's word runs out (below), not at its next poll.
  const toldNoAnswer = firstValueFrom(
    carol.service.events.pipe(
      filter((e) => e.type === 'status' && e.folder === folder && e.status.peers.some((p) => p.state === 'no-answer')),
      timeout(60_000),
    ),
  );
  toldNoAnswer.catch(() => undefined);
  await until([carol], async () => (await carol.service.folder(folder)).status.peers.some((p) => p.online), 'carol seeing alice online');
  const waiting = (await carol.service.folder(folder)).status;
  expect(waiting).toMatchObject({ state: 'checking', behindEntriesLastKnown: true });
  // The vector Alice said before Carol's restart, kept in Carol's store.
  expect(waiting.peers).toEqual([expect.objectContaining({ name: 'Alice', state: 'checking', vector: 'last-known' })]);
  expect(await read(carolRoot, `away/${FILES - 1}.txt`)).toBeUndefined();

  // Alice's host stays up and her Kinfolder does not answer: after the wait Carol says so, and
  // the folder is offline (nobody to sync with), not "checking" for good.
  const told = await toldNoAnswer;
  expect(told.type === 'status' && told.status).toMatchObject({ state: 'offline', behindEntriesLastKnown: true, peers: [expect.objectContaining({ name: 'Alice', online: true, state: 'no-answer' })] });

  // Alice is back: her Vector ends the checking, and Carol is in sync only once she has it all
  // (files read after the status: they only arrive, never leave).
  await net.startService(alice);
  const inSyncMissing = new Set<string>();
  await until(
    [alice, carol],
    async () => {
      const s = (await carol.service.folder(folder)).status;
      if (s.state !== 'in-sync') return false;
      for (let i = 0; i < FILES; i++) if ((await read(carolRoot, `away/${i}.txt`)) !== text(i)) inSyncMissing.add(`away/${i}.txt`);
      return s.behindEntries === 0 && s.behindFiles === 0 && s.peers[0]?.vector === 'fresh';
    },
    'carol in sync with every file',
  );
  expect([...inSyncMissing]).toEqual([]);
});
