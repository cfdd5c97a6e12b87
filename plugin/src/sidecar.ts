/**
 * The sidecar's composition root: host client, panel server, and (as the folder issues
 * land) store, scanner, apply and sync. Each piece has start/stop; this wires them.
 */
import * as fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { filter } from 'rxjs';
import { HostClient, type Peer } from './host';
import { startPanelServer, type PanelServer } from './panel';

export const PLUGIN_ID = 'kinfolder';
export const SYNC_SERVICE = 'kinfolder.sync.v1';
export const PANEL = { id: 'folders', title: 'Shared folders', icon: '📁' } as const;

export interface SidecarOptions {
  hostAddress: string;
  hostToken: string;
  dataDir: string;
  log: Logger;
}

export interface Sidecar {
  readonly host: HostClient;
  readonly panel: PanelServer;
  stop(): Promise<void>;
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const log = opts.log;
  const host = new HostClient({
    address: opts.hostAddress,
    token: opts.hostToken,
    pluginId: PLUGIN_ID,
    log: (level, message, fields) => log[level](fields ?? {}, message),
  });
  let peers: Peer[] = [];
  const panel = await startPanelServer({
    status: async () => ({ self: await host.getSelf(), peers }),
  });
  const subs = [
    host.peers$.subscribe((p) => (peers = p)),
    // The host forgets panels when it restarts: register again every time the link is ready.
    host.state$.pipe(filter((s) => s === 'ready')).subscribe(() => {
      host.registerPanel({ ...PANEL, url: panel.url }).then(
        (r) => {
          panel.setToken(r.panelToken);
          log.info({ event: 'panel:registered', url: panel.url }, 'panel registered with the host');
        },
        (err: Error) => log.error({ event: 'panel:refused', err: err.message }, 'the host refused the panel'),
      );
    }),
    host.state$.subscribe((state) => log.info({ event: 'host:state', state }, `host link ${state}`)),
  ];
  host.start();
  return {
    host,
    panel,
    async stop() {
      for (const s of subs) s.unsubscribe();
      await host.stop();
      await panel.close();
    },
  };
}
