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
  /** The plugin processes this host runs (restarted when they die), in the order of `plugins`. */
  readonly plugins: readonly PluginProcess[];
  /** Registers a plugin without running it (for a sidecar started by hand or in tests). */
  registerPlugin(manifest: unknown): Promise<{ token: string; manifest: PluginManifest }>;
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

/**
 * The plugins this host has installed, with their tokens. Both outlive a host restart, so a
 * sidecar that keeps running reconnects with the token it was given. Kept 0600 in the data
 * dir, like the PGP key.
 */
class InstalledPlugins {
  private constructor(private readonly file: string, private readonly byId: Record<string, { manifest: unknown; token: string }>) {}

  static async open(dataDir: string): Promise<InstalledPlugins> {
    const file = path.join(dataDir, 'plugins.json');
    let byId: Record<string, { manifest: unknown; token: string }> = {};
    try {
      byId = JSON.parse(await fs.readFile(file, 'utf8')) as typeof byId;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable: ${(err as Error).message}`);
    }
    return new InstalledPlugins(file, byId);
  }

  /** Registers every installed plugin again; one whose manifest no longer validates is skipped with its reason. */
  restore(registry: PluginRegistry, log: (line: string) => void): void {
    for (const [id, { manifest, token }] of Object.entries(this.byId)) {
      try {
        registry.register(registry.validateManifest(manifest), token);
      } catch (err) {
        log(`installed plugin ${id} not restored: ${(err as Error).message}`);
      }
    }
  }

  async register(registry: PluginRegistry, manifest: PluginManifest): Promise<string> {
    const { token } = registry.register(manifest, this.byId[manifest.id]?.token);
    this.byId[manifest.id] = { manifest, token };
    const tmp = `${this.file}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(this.byId, null, 2)}\n`, { mode: 0o600 });
    await fs.rename(tmp, this.file);
    return token;
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
    const installed = await InstalledPlugins.open(devhost.node.dataDir);
    installed.restore(registry, log);
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
    const processes: PluginProcess[] = [];
    cleanup.push(() => Promise.all(processes.map((p) => p.stop())).then(() => undefined));
    for (const { file, manifest } of manifests) {
      processes.push(startPluginProcess({
        manifest,
        manifestDir: path.dirname(path.resolve(file)),
        hostAddress: contractAddress,
        token: await installed.register(registry, manifest),
        dataDir: path.join(devhost.node.dataDir, 'plugins', manifest.id),
        log,
        env: opts.pluginEnv,
      }));
    }
    return {
      devhost,
      registry,
      contractAddress,
      web,
      plugins: processes,
      async registerPlugin(json) {
        const manifest = registry.validateManifest(json);
        return { manifest, token: await installed.register(registry, manifest) };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
