import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pluginCommandLine, pluginMallocEnv, startPluginProcess } from '../../../host-bridge/src/app';
import { PluginManifestError, type PluginManifest } from '../../../host-bridge/src/server';

const BASE: PluginManifest = { id: 'probe', name: 'Probe', version: '0.1.0', entry: 'probe.js', contract: 'kinfolder.host.v1', capabilities: [] };

describe('pluginCommandLine', () => {
  it('puts the manifest heap flags before the entry, and nothing without them', () => {
    expect(pluginCommandLine(BASE, '/p', '/d')).toEqual(['/p/probe.js', '--data', '/d']);
    const m = { ...BASE, runtime: { nodeArgs: ['--max-semi-space-size=4', '--heap-growing-percent=20'] } };
    expect(pluginCommandLine(m, '/p', '/d')).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=20', '/p/probe.js', '--data', '/d']);
  });

  it.each([
    ['a flag outside the allow-list', ['--inspect=9229']],
    ['code loaded by a flag', ['--require=/tmp/x.js']],
    ['a value out of bounds', ['--max-old-space-size=16']],
    ['the same flag twice', ['--max-semi-space-size=4', '--max-semi-space-size=8']],
  ])('refuses %s even when the manifest skipped the registry', (_what, nodeArgs) => {
    expect(() => pluginCommandLine({ ...BASE, runtime: { nodeArgs } }, '/p', '/d')).toThrow(PluginManifestError);
  });
});

describe('pluginMallocEnv', () => {
  it('names glibc’s variables for the tuning asked, and nothing without it', () => {
    expect(pluginMallocEnv(BASE)).toEqual({});
    expect(pluginMallocEnv({ ...BASE, runtime: { malloc: { arenaMax: 2, mmapThresholdBytes: 131072, trimThresholdBytes: 0 } } })).toEqual({
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '0',
    });
  });

  it.each([
    ['a variable outside the allow-list', { LD_PRELOAD: 1 }],
    ['a value out of bounds', { arenaMax: 65 }],
    ['a value that is not an integer', { mmapThresholdBytes: 4096.5 }],
  ])('refuses %s even when the manifest skipped the registry', (_what, malloc) => {
    expect(() => pluginMallocEnv({ ...BASE, runtime: { malloc: malloc as never } })).toThrow(PluginManifestError);
  });
});

describe('startPluginProcess', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinfolder-plugin-process-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('launches the entry with the heap flags and malloc tuning the manifest declared', async () => {
    // The probe says what V8 was given, then waits for the host to stop it.
    fs.writeFileSync(
      path.join(dir, 'probe.js'),
      `const v8 = require('v8');
       console.log('probe ' + JSON.stringify({ execArgv: process.execArgv, limitMb: v8.getHeapStatistics().heap_size_limit / 1048576, data: process.argv[3], arenas: process.env.MALLOC_ARENA_MAX }));
       setInterval(() => {}, 1000);`,
    );
    const lines: string[] = [];
    let seen!: (line: string) => void;
    const probed = new Promise<string>((r) => (seen = r));
    const proc = startPluginProcess({
      manifest: { ...BASE, runtime: { nodeArgs: ['--max-old-space-size=96', '--max-semi-space-size=2'], malloc: { arenaMax: 2 } } },
      manifestDir: dir,
      hostAddress: 'unix:/nowhere',
      token: 't',
      dataDir: path.join(dir, 'data'),
      log: (line) => {
        lines.push(line);
        if (line.startsWith('[probe] probe ')) seen(line);
      },
    });
    try {
      const line = await Promise.race([probed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no probe line; log: ${lines.join(' | ')}`)), 15_000).unref())]);
      const said = JSON.parse(line.slice('[probe] probe '.length)) as { execArgv: string[]; limitMb: number; data: string; arenas?: string };
      expect(said.arenas).toBe('2');
      expect(said.execArgv).toEqual(['--max-old-space-size=96', '--max-semi-space-size=2']);
      // The limit covers the old space and the young generation: far below V8's default of about 2 GiB.
      expect(said.limitMb).toBeGreaterThanOrEqual(96);
      expect(said.limitMb).toBeLessThan(120);
      expect(said.data).toBe(path.join(dir, 'data'));
    } finally {
      await proc.stop();
    }
  }, 30_000);
});
