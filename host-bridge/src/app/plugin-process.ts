/**
 * Runs one plugin's entry point as a child process with the host address and its token,
 * restarts it with backoff when it dies, and stops it with SIGTERM (then SIGKILL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { type PluginManifest, PluginManifestError, mallocEnv, mallocProblems, nodeArgProblems } from '../server';

export interface PluginProcessOptions {
  manifest: PluginManifest;
  manifestDir: string;
  hostAddress: string;
  token: string;
  dataDir: string;
  log: (line: string) => void;
  /** Extra environment for the plugin. */
  env?: Record<string, string>;
}

export interface PluginProcess {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 10_000;
const STOP_GRACE_MS = 5_000;

/**
 * The command line after the Node binary: the manifest's heap flags, the entry, its data dir.
 * The flags are checked again here: a manifest may reach a launcher without the registry.
 */
export function pluginCommandLine(manifest: PluginManifest, manifestDir: string, dataDir: string): string[] {
  const nodeArgs = manifest.runtime?.nodeArgs ?? [];
  const problems = nodeArgProblems(nodeArgs);
  if (problems.length > 0) {
    throw new PluginManifestError('MANIFEST_INVALID', `plugin manifest '${manifest.id}' asks for Node flags the host does not allow: ${problems.join('; ')}`, problems);
  }
  return [...nodeArgs, path.resolve(manifestDir, manifest.entry), '--data', dataDir];
}

/** The manifest's malloc tuning as environment variables, checked again like the flags. */
export function pluginMallocEnv(manifest: PluginManifest): Record<string, string> {
  const problems = mallocProblems(manifest.runtime?.malloc);
  if (problems.length > 0) {
    throw new PluginManifestError('MANIFEST_INVALID', `plugin manifest '${manifest.id}' asks for malloc tuning the host does not allow: ${problems.join('; ')}`, problems);
  }
  return mallocEnv(manifest.runtime?.malloc);
}

export function startPluginProcess(opts: PluginProcessOptions): PluginProcess {
  const args = pluginCommandLine(opts.manifest, opts.manifestDir, opts.dataDir);
  const malloc = pluginMallocEnv(opts.manifest);
  let child: ChildProcess | undefined;
  let stopped = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = (): void => {
    const startedAt = Date.now();
    const c = spawn(process.execPath, args, {
      env: {
        ...process.env,
        ...malloc,
        ...opts.env,
        KINFOLDER_HOST_ADDRESS: opts.hostAddress,
        KINFOLDER_HOST_TOKEN: opts.token,
        KINFOLDER_DATA_DIR: opts.dataDir,
        // The plugin's stdin is a pipe that only closes when this host process is gone (even by
        // SIGKILL), so a launched plugin never outlives its host and races the next one's plugin.
        KINFOLDER_EXIT_WITH_HOST: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = c;
    for (const stream of [c.stdout!, c.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => opts.log(`[${opts.manifest.id}] ${line}`));
    }
    c.on('exit', (code, signal) => {
      child = undefined;
      if (stopped) return;
      // A plugin that ran a while before dying is restarted promptly; one that keeps dying backs off.
      failures = Date.now() - startedAt > 30_000 ? 1 : failures + 1;
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (failures - 1));
      opts.log(`plugin ${opts.manifest.id} exited (${signal ?? code}); restarting in ${delay} ms`);
      restartTimer = setTimeout(launch, delay);
    });
  };
  launch();

  return {
    get pid() {
      return child?.pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
  };
}
