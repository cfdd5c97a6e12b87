/**
 * Signing through a real host: a devhost app serves the host contract, the sidecar's
 * HostClient signs manifests and checkpoints, and another replica verifies them on ingest.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { startDevhostApp, loadManifestFile, type DevhostApp } from '../../../host-bridge/src/app';
import { HostClient } from '../../../plugin/src/host';
import type { Signer } from '../../../plugin/src/log';
import { OpenpgpVerifier } from '../../../plugin/src/log/openpgp-verifier';
import { FolderReplica } from '../../../plugin/src/replica';
import { tempDir } from '../../host-bridge/devhost/helpers';
import { FOLDER, Fixture, PLUGIN_ID, hostVerifier, put, sync } from './helpers';

const MANIFEST = path.resolve(__dirname, '../../../plugin.manifest.json');

const fx = new Fixture();
let app: DevhostApp | undefined;
let client: HostClient | undefined;
let dir: string | undefined;

beforeAll(() => fx.init());
afterEach(async () => {
  await fx.cleanup();
  await client?.stop();
  await app?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('manifests and checkpoints signed by the host verify at a peer, and the state converges', async () => {
  dir = await tempDir('kf-replica-host-');
  app = await startDevhostApp({ dataDir: dir, name: 'Alice', plugins: [], log: () => {} });
  const { token } = await app.registerPlugin(await loadManifestFile(MANIFEST));
  client = new HostClient({ address: app.contractAddress, token, pluginId: PLUGIN_ID, backoff: { initialMs: 50, maxMs: 500 } });
  client.start();
  await client.ready();
  const self = await client.getSelf();
  const c = client;
  const signer: Signer = { sign: async (m) => (await c.sign(m)).signature };

  const alice = await FolderReplica.create({
    store: await fx.store(),
    folder: FOLDER,
    self: self.fingerprint,
    signer,
    verifier: hostVerifier,
    clock: fx.clock,
    name: 'through the host',
    members: [{ fingerprint: self.fingerprint, name: 'Alice', publicKeyArmored: self.publicKeyArmored, role: 'admin' }, fx.member('bob', 'writer')],
  });
  fx.replicas.push(alice);
  await alice.appendLocal([{ folder: FOLDER, author: self.fingerprint, wallTimeMs: 1, body: put('hello.txt'), parents: [] }]);
  await alice.editManifest({ kind: 'add', member: fx.member('carol', 'reader') });

  const bob = await fx.join('bob', alice);
  expect(bob.manifest().hash).toBe(alice.manifest().hash);
  const results = await sync(alice, bob);
  expect(results.flatMap((r) => r.refusals)).toEqual([]);
  expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(1);
  expect(await bob.state.stateHash()).toBe(await alice.state.stateHash());

  // The same signature without the host's plugin binding does not verify: the wrapping is checked.
  const carol = await FolderReplica.join({ store: await fx.store(), folder: FOLDER, self: fx.ids.carol.fingerprint, signer: { sign: () => Promise.reject(new Error('unused')) }, verifier: new OpenpgpVerifier(), clock: fx.clock, manifests: alice.manifestChain() }).catch((e: unknown) => e);
  expect(carol).toMatchObject({ code: 'NO_MANIFEST' });
}, 60_000);
