/**
 * A running demo for end-to-end tests: devhost apps (node, contract server, web UI) each with
 * the real Kinfolder sidecar as a child process, friends with each other, panels registered,
 * folder services up. Like `npm start` (scripts/demo.ts) but with no folder made yet: the
 * test makes it through the panel. Everything lives in one temp dir, removed by `stop()`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, map, startWith, timeout } from 'rxjs';
import { befriendAll, startDevhostApp, type DevhostApp } from '../../host-bridge/src/app';
import { panelApi, poll, type PanelApi } from '../../scripts/lib/panel-api';

const MANIFEST = path.resolve(__dirname, '../../plugin.manifest.json');

export interface DemoNode {
  readonly name: string;
  readonly fingerprint: string;
  readonly app: DevhostApp;
  /** The node's panel API, called with the token the host hands the panel. */
  readonly api: PanelApi;
  /** This node's directory in the temp dir (host data under it; folders go where the test says). */
  readonly dir: string;
}

export interface DemoNet {
  readonly root: string;
  readonly nodes: DemoNode[];
  /** The last lines the hosts and sidecars logged (the plugin processes' output among them), for a failing test's message. */
  logTail(n?: number): string;
  stop(): Promise<void>;
}

/** Starts one node per name, makes them all friends, and waits until every panel's folder service answers. */
export async function startDemoNet(names: readonly string[], opts: { readyMs?: number } = {}): Promise<DemoNet> {
  const readyMs = opts.readyMs ?? 60_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-e2e-'));
  const lines: string[] = [];
  const apps: DevhostApp[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(apps.splice(0).map((a) => a.stop().catch(() => undefined)));
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const name of names) {
      const log = (line: string): void => {
        lines.push(`${name}: ${line}`);
        if (lines.length > 2000) lines.splice(0, 1000);
      };
      apps.push(await startDevhostApp({ dataDir: path.join(root, name.toLowerCase(), 'host'), name, plugins: [MANIFEST], log }));
    }
    await befriendAll(apps);
    await Promise.all(
      apps.map(async (app) => {
        const node = app.devhost.node;
        await firstValueFrom(node.peerEvents.pipe(startWith(null), map(() => node.peers().filter((p) => p.online).length), filter((n) => n === apps.length - 1), timeout(readyMs)));
        await firstValueFrom(node.panelEvents.pipe(startWith(node.listPanels()), filter((p) => p.length > 0), timeout(readyMs)));
      }),
    );
    const nodes = await Promise.all(
      apps.map(async (app, i) => {
        const api = await poll(() => panelApi(app.web.url), `${names[i]}'s panel`, readyMs);
        // The folder service answers once the sidecar has the host's identity; and it must see its friends online to invite them.
        await poll(() => api.get('/api/self'), `${names[i]}'s folder service`, readyMs);
        await poll(
          async () => ((await api.get<{ online: boolean }[]>('/api/friends')).filter((f) => f.online).length === apps.length - 1 ? true : undefined),
          `${names[i]}'s sidecar seeing its friends online`,
          readyMs,
        );
        return { name: names[i], fingerprint: app.devhost.node.self().fingerprint, app, api, dir: path.join(root, names[i].toLowerCase()) };
      }),
    );
    return { root, nodes, logTail: (n = 40) => lines.slice(-n).join('\n'), stop };
  } catch (err) {
    const tail = lines.slice(-40).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}\n--- last log lines ---\n${tail}`);
  }
}
