/**
 * `npm start`: three devhost nodes (Alice, Bob, Carol) on loopback in a temporary folder,
 * friends with each other, each running the Kinfolder sidecar; prints the web UI addresses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, map, startWith, timeout } from 'rxjs';
import { startDevhostApp, type DevhostApp } from '../host-bridge/src/app';

const NAMES = ['Alice', 'Bob', 'Carol'];
const MANIFEST = path.resolve(__dirname, '..', 'plugin.manifest.json');

async function main(): Promise<void> {
  const root = process.env.KINFOLDER_DEMO_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kinfolder-demo-'));
  const quiet = process.env.KINFOLDER_DEMO_VERBOSE ? undefined : () => {};
  console.log(`Kinfolder demo: data in ${root}`);
  const apps: DevhostApp[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(apps.map((a) => a.stop()));
    if (!process.env.KINFOLDER_DEMO_DIR) fs.rmSync(root, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stop().then(() => process.exit(0)));

  for (const name of NAMES) {
    apps.push(await startDevhostApp({ dataDir: path.join(root, name.toLowerCase()), name, plugins: [MANIFEST], log: quiet }));
  }
  // Friends by exchanging certificates, as two people would by pasting them into each other's UI.
  for (const a of apps) {
    for (const b of apps) {
      if (a === b) continue;
      const fp = b.devhost.node.self().fingerprint;
      if (!a.devhost.node.peers().some((p) => p.fingerprint === fp)) await a.devhost.node.addFriend(b.devhost.node.certificate());
    }
  }
  // Ready when every node sees its friends online and its sidecar has registered the panel.
  await Promise.all(
    apps.map(async (app) => {
      const node = app.devhost.node;
      await firstValueFrom(
        node.peerEvents.pipe(
          startWith(null),
          map(() => node.peers().filter((p) => p.online).length),
          filter((n) => n === NAMES.length - 1),
          timeout(30_000),
        ),
      );
      await firstValueFrom(node.panelEvents.pipe(startWith(node.listPanels()), filter((p) => p.length > 0), timeout(60_000)));
    }),
  );
  console.log('\nReady. Open a node in your browser:\n');
  for (const app of apps) console.log(`  ${app.devhost.node.self().displayName.padEnd(6)} ${app.web.url}`);
  console.log('\nEach node lists its two friends (online), chats with them, and shows the "Shared folders" panel in its own tab.');
  console.log('Press Ctrl-C to stop.');
}

main().catch((err: Error) => {
  console.error(`demo failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
