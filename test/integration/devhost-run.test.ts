/**
 * `kinfolder-devhost run --plugin plugin.manifest.json` as a person runs it: a real process
 * with its web UI, the contract server and the Kinfolder sidecar as its child.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { tempDir } from '../host-bridge/devhost/helpers';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'host-bridge/bin/kinfolder-devhost.js');
const MANIFEST = path.join(ROOT, 'plugin.manifest.json');
const run = promisify(execFile);

/** Resolves with the first line of `stream` that matches, or rejects after `ms`. */
function lineMatching(stream: NodeJS.ReadableStream, re: RegExp, ms: number, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: stream });
    const timer = setTimeout(() => {
      rl.close();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    rl.on('line', (line) => {
      const m = line.match(re);
      if (!m) return;
      clearTimeout(timer);
      rl.close();
      resolve(m);
    });
  });
}

function exited(pid: number, ms: number): Promise<void> {
  // A process that is not our child gives no exit event; ask the kernel until it is gone.
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = (): void => {
      try {
        process.kill(pid, 0);
      } catch {
        return resolve();
      }
      if (Date.now() > deadline) return reject(new Error(`process ${pid} still alive after ${ms} ms`));
      setTimeout(check, 50);
    };
    check();
  });
}

describe('kinfolder-devhost run --plugin', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    dir = await tempDir('kf-run-');
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serves the web UI with the plugin panel, and the sidecar does not outlive a killed host', async () => {
    await run(process.execPath, [BIN, 'init', '--data', dir, '--name', 'Alice']);
    const c = spawn(process.execPath, [BIN, 'run', '--data', dir, '--plugin', MANIFEST], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const registered = lineMatching(c.stderr!, /"pid":(\d+).*"event":"panel:registered"/, 60_000, 'the sidecar registering its panel');
    const [, url] = await lineMatching(c.stdout!, /^web UI: (\S+)$/, 30_000, 'the web UI address');
    const sidecarPid = Number((await registered)[1]);
    expect(sidecarPid).toBeGreaterThan(0);
    expect(sidecarPid).not.toBe(c.pid);

    const state = await fetch(new URL('/api/state', url), { headers: { 'x-devhost-token': new URL(url).searchParams.get('t')! } });
    const body = (await state.json()) as { self: { displayName: string }; panels: { pluginId: string; title: string }[] };
    expect(state.status).toBe(200);
    expect(body.self.displayName).toBe('Alice');
    expect(body.panels).toEqual([expect.objectContaining({ pluginId: 'kinfolder', title: 'Shared folders' })]);

    c.kill('SIGKILL');
    await exited(sidecarPid, 15_000);
  });
});
