/**
 * A whole devhost as a person runs it: the node (identity, friends, TLS links, chat), the
 * contract server on `<data>/host.sock`, the web UI, and each plugin's process.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runDevhost, type RunDevhostOptions, type RunningDevhost } from '../devhost';
import { startDevhostWeb, type DevhostWeb } from '../devhost/web';
import { PluginRegistry, createHostServer, type HostServer, type PluginManifest } from '../server';
import { startPluginProcess, type PluginProcess } from './plugin-process';

export interface DevhostAppOptions extends RunDevhostOptions {
  /** Paths of plugin manifests whose entry points the host runs. */
  plugins?: string[];
  /** Host contract endpoint; default a Unix socket in the data dir. */
  contract?: { socketPath: string } | { host: '127.0.0.1'; port: number };
  webPort?: number;
  webToken?: string;
  /** Extra environment for plugin processes. */
  pluginEnv?: Record<string, string>;
}

export interface DevhostApp {
  readonly devhost: RunningDevhost;
  readonly registry: PluginRegistry;
  readonly contractAddress: string;
  readonly web: DevhostWeb;
  /** Registers a plugin without running it (for a sidecar started by hand or in tests). */
  registerPlugin(manifest: unknown): { token: string; manifest: PluginManifest };
  stop(): Promise<void>;
}

export async function loadManifestFile(file: string): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`plugin manifest ${file} is not JSON: ${(err as Error).message}`);
  }
}

export async function startDevhostApp(opts: DevhostAppOptions): Promise<DevhostApp> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch((err: Error) => log(`stop: ${err.message}`));
  };
  try {
    // Manifests are checked before anything starts, so a bad one fails the start with its reason.
    const manifests = await Promise.all(
      (opts.plugins ?? []).map(async (file) => ({ file, manifest: new PluginRegistry().validateManifest(await loadManifestFile(file)) })),
    );
    const devhost = await runDevhost(opts);
    cleanup.push(() => devhost.stop());
    const registry = new PluginRegistry();
    const server: HostServer = createHostServer({
      adapter: devhost.node,
      registry,
      listen: opts.contract ?? { socketPath: path.join(devhost.node.dataDir, 'host.sock') },
      log: (level, message) => (level === 'debug' ? undefined : log(`[contract] ${message}`)),
    });
    const { address: contractAddress } = await server.start();
    cleanup.push(() => server.stop());
    const web = await startDevhostWeb({ backend: devhost.node, port: opts.webPort ?? 0, token: opts.webToken });
    cleanup.push(() => web.close());
    const processes: PluginProcess[] = manifests.map(({ file, manifest }) =>
      startPluginProcess({
        manifest,
        manifestDir: path.dirname(path.resolve(file)),
        hostAddress: contractAddress,
        token: registry.register(manifest).token,
        dataDir: path.join(devhost.node.dataDir, 'plugins', manifest.id),
        log,
        env: opts.pluginEnv,
      }),
    );
    cleanup.push(() => Promise.all(processes.map((p) => p.stop())).then(() => undefined));
    return {
      devhost,
      registry,
      contractAddress,
      web,
      registerPlugin(json) {
        const manifest = registry.validateManifest(json);
        return { manifest, token: registry.register(manifest).token };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
