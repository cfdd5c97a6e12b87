/**
 * `npm start`: three devhost nodes (Alice, Bob, Carol) on loopback in a temporary folder,
 * friends with each other, each running the Kinfolder sidecar. Alice shares a folder with
 * sample files, invites Bob as writer and Carol as reader, and both accept (through each
 * node's panel API, as a person would in the panel). Prints the web UI addresses, the
 * folders on disk, and what to try.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, map, startWith, timeout } from 'rxjs';
import { befriendAll, startDevhostApp, type DevhostApp } from '../host-bridge/src/app';
import { panelApi, poll, type PanelApi } from './lib/panel-api';

const SAMPLES: Record<string, string> = {
  'README.txt': 'Welcome to the shared folder.\nEdit a file on one node and watch it appear on the others.\n',
  'docs/plan.md': '# Plan\n\n- pick a date\n- book the hall\n- send the invitations\n',
  'docs/budget.csv': 'item,cost\nhall,300\nfood,450\nmusic,200\n',
  'photos/notes.txt': 'Photos go here.\n',
};

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
  await befriendAll(apps);
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
  const roots = await shareSampleFolder(apps, root);
  console.log('\nReady. Open a node in your browser (its "Shared folders" tab is the Kinfolder panel):\n');
  for (const [i, app] of apps.entries()) console.log(`  ${app.devhost.node.self().displayName.padEnd(6)} ${app.web.url}\n         folder on disk: ${roots[i]}`);
  console.log(`
Alice (admin) shares "Trip", Bob is a writer and Carol a reader. Try:
  - edit ${path.join(roots[1], 'docs', 'plan.md')} (Bob): it reaches Alice and Carol within a second;
  - write a file into ${roots[0]} (Alice): it appears in every panel's file list;
  - edit a file in ${roots[2]} (Carol, a reader): it is refused, kept beside as a conflict copy, and never sent;
  - edit the same file on Alice and Bob at once: both versions survive, resolve the conflict in the panel;
  - in Alice's panel: change roles, narrow Bob to docs/, restore a deleted file, chat in the folder's room.
Press Ctrl-C to stop.`);
}

/** Alice creates "Trip" from a folder of sample files and invites Bob (writer) and Carol (reader), who accept. */
async function shareSampleFolder(apps: DevhostApp[], root: string): Promise<string[]> {
  const apis: PanelApi[] = await Promise.all(apps.map((a) => poll(() => panelApi(a.web.url), `${a.devhost.node.self().displayName}'s panel`)));
  // The service answers once its sidecar has the host's identity.
  await Promise.all(apis.map((api) => poll(() => api.get('/api/self'), 'the folder service')));
  const roots = apps.map((a) => path.join(root, a.devhost.node.self().displayName.toLowerCase(), 'Trip'));
  for (const [p, text] of Object.entries(SAMPLES)) {
    fs.mkdirSync(path.dirname(path.join(roots[0], p)), { recursive: true });
    fs.writeFileSync(path.join(roots[0], p), text);
  }
  const folder = await apis[0].post<{ id: string }>('/api/folders', { name: 'Trip', root: roots[0] });
  const [bob, carol] = [apps[1], apps[2]].map((a) => a.devhost.node.self().fingerprint);
  await apis[0].post(`/api/folders/${folder.id}/members`, { kind: 'invite', fingerprint: bob, role: 'writer' });
  await apis[0].post(`/api/folders/${folder.id}/members`, { kind: 'invite', fingerprint: carol, role: 'reader' });
  for (const i of [1, 2]) {
    await poll(async () => ((await apis[i].get<{ folder: string }[]>('/api/invitations')).some((v) => v.folder === folder.id) ? true : undefined), 'the invitation');
    await apis[i].post(`/api/invitations/${folder.id}/accept`, { root: roots[i] });
  }
  await poll(async () => (roots.every((r) => Object.keys(SAMPLES).every((p) => fs.existsSync(path.join(r, p)))) ? true : undefined), 'the sample files on every node');
  return roots;
}

main().catch((err: Error) => {
  console.error(`demo failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
