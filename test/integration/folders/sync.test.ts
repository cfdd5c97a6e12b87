/** Friends who share a folder converge on the same files over real devhost links, with the manifest's roles enforced. */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { converged, Net, read, until, write } from './helpers';

jest.setTimeout(120_000);

const net = new Net();
afterEach(() => net.cleanup());

test('an admin creates a folder, invites a writer who accepts; files go both ways byte for byte and the state hashes match', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  await net.friends(alice, bob);
  const folder = await net.create(alice, 'Shared', { 'hello.txt': 'hello from alice', 'docs/plan.md': '# plan\n' });
  const aliceRoot = net.root(alice, 'Shared');
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'hello.txt' && f.state === 'synced'), 'alice announcing her files');

  const bobRoot = await net.invite(alice, folder, bob, 'writer');
  await until([alice, bob], async () => (await read(bobRoot, 'docs/plan.md')) === '# plan\n' && (await converged(folder, [{ node: alice, root: aliceRoot }, { node: bob, root: bobRoot }])), 'bob receiving alice’s files');

  await write(bobRoot, 'from-bob.txt', 'bob was here');
  await until([alice, bob], async () => (await read(aliceRoot, 'from-bob.txt')) === 'bob was here', 'alice receiving bob’s file');
  await until([alice, bob], () => converged(folder, [{ node: alice, root: aliceRoot }, { node: bob, root: bobRoot }]), 'convergence after bob’s write');

  const members = await alice.service.members(folder);
  expect(members.map((m) => [m.name, m.role, m.state])).toEqual(expect.arrayContaining([['Alice', 'admin', 'active'], ['Bob', 'writer', 'active']]));
  const status = await alice.service.folder(folder);
  expect(status.status.peers.map((p) => p.name)).toEqual(['Bob']);
  await until([alice, bob], async () => (await alice.service.folder(folder)).status.state === 'in-sync', 'alice in sync');
  // Bob's side too: nothing left to apply once his engine has run dry.
  await until([alice, bob], async () => {
    const s = (await bob.service.folder(folder)).status;
    return s.state === 'in-sync' && s.behindFiles === 0;
  }, 'bob in sync with nothing left to apply');
  const files = await bob.service.files(folder, '');
  expect(files.find((f) => f.name === 'hello.txt')).toMatchObject({ state: 'synced', authorName: 'Alice' });
  expect(await fsp.readdir(path.join(bobRoot))).toEqual(expect.arrayContaining(['docs', 'from-bob.txt', 'hello.txt']));
});

test('a file held open by a program on one node shows as in use by that member on the other', async () => {
  const alice = await net.node('Alice');
  const bob = await net.node('Bob');
  await net.friends(alice, bob);
  const folder = await net.create(alice, 'Shared', { 'report.txt': 'quarterly numbers' });
  await until([alice], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'report.txt' && f.state === 'synced'), 'alice announcing');
  const bobRoot = await net.invite(alice, folder, bob, 'writer');
  await until([alice, bob], async () => (await read(bobRoot, 'report.txt')) === 'quarterly numbers', 'bob receiving');
  // An editor on Bob's machine: a separate process holding the file open.
  const editor = spawn('tail', ['-f', path.join(bobRoot, 'report.txt')], { stdio: 'ignore' });
  try {
    await until([alice, bob], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'report.txt' && f.state === 'in-use' && f.openBy?.includes('Bob')), 'alice seeing bob’s open file');
    const peers = (await alice.service.folder(folder)).status.peers;
    expect(peers.find((p) => p.name === 'Bob')?.openPaths).toEqual(['report.txt']);
  } finally {
    editor.kill();
  }
  await until([alice, bob], async () => (await alice.service.files(folder, '')).some((f) => f.name === 'report.txt' && f.state === 'synced'), 'the file free again');
});
