import * as fs from 'node:fs';
import * as path from 'node:path';
import { PluginManifestError, PluginRegistry, validateManifest } from '../../../host-bridge/src/server';
import { FULL } from './harness';

function errorOf(json: unknown): PluginManifestError {
  try {
    validateManifest(json);
  } catch (e) {
    if (e instanceof PluginManifestError) return e;
    throw e;
  }
  throw new Error('manifest was accepted');
}

describe('validateManifest', () => {
  it('accepts the repository plugin.manifest.json', () => {
    const json = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'plugin.manifest.json'), 'utf8'));
    expect(validateManifest(json).id).toBe('kinfolder');
  });

  it.each([
    ['not an object', 42, ['/: must be object']],
    ['missing fields', { id: 'abc' }, ["/: must have required property 'name'", "/: must have required property 'capabilities'"]],
    ['bad id pattern', { ...FULL, id: 'Bad Id' }, ['/id: must match pattern']],
    ['unknown capability', { ...FULL, capabilities: ['chat', 'root'] }, ['/capabilities/1: must be equal to one of the allowed values ("identity.sign"']],
    ['links without services', { ...FULL, links: undefined }, ["/: must have required property 'links'"]],
    ['wrong contract', { ...FULL, contract: 'kinfolder.host.v2' }, ['/contract: must be equal to constant "kinfolder.host.v1"']],
    ['extra property', { ...FULL, sneaky: true }, ["/: must NOT have additional properties 'sneaky'"]],
    ['bad service name', { ...FULL, links: { services: ['UPPER'] } }, ['/links/services/0: must match pattern']],
    ['a Node flag outside the allow-list', { ...FULL, runtime: { nodeArgs: ['--inspect=9229'] } }, ['/runtime/nodeArgs/0: must match pattern']],
    ['a Node flag that loads code', { ...FULL, runtime: { nodeArgs: ['--require=./x.js'] } }, ['/runtime/nodeArgs/0: must match pattern']],
    ['a heap flag out of bounds', { ...FULL, runtime: { nodeArgs: ['--max-old-space-size=8'] } }, ['/runtime/nodeArgs: --max-old-space-size must be 64..16384, not 8']],
    ['a heap flag given twice', { ...FULL, runtime: { nodeArgs: ['--max-semi-space-size=4', '--max-semi-space-size=8'] } }, ['/runtime/nodeArgs: --max-semi-space-size is given more than once']],
    ['an unknown runtime field', { ...FULL, runtime: { env: {} } }, ["/runtime: must NOT have additional properties 'env'"]],
    ['an environment variable in the malloc tuning', { ...FULL, runtime: { malloc: { LD_PRELOAD: 1 } } }, ["/runtime/malloc: must NOT have additional properties 'LD_PRELOAD'"]],
    ['a malloc value out of bounds', { ...FULL, runtime: { malloc: { arenaMax: 0, mmapThresholdBytes: 1 << 30 } } }, ['/runtime/malloc/arenaMax: must be >= 1', '/runtime/malloc/mmapThresholdBytes: must be <= 33554432']],
    ['a malloc value that is not an integer', { ...FULL, runtime: { malloc: { trimThresholdBytes: '1e9' } } }, ['/runtime/malloc/trimThresholdBytes: must be integer']],
  ])('refuses %s with each problem at its JSON path', (_name, json, expected) => {
    const err = errorOf(JSON.parse(JSON.stringify(json)));
    expect(err.code).toBe('MANIFEST_INVALID');
    for (const line of expected) expect(err.message).toContain(line);
    expect(err.problems.length).toBeGreaterThanOrEqual(expected.length);
  });

  it('accepts malloc tuning within bounds', () => {
    const malloc = { arenaMax: 2, mmapThresholdBytes: 131072, trimThresholdBytes: 0 };
    expect(validateManifest({ ...FULL, runtime: { malloc } }).runtime?.malloc).toEqual(malloc);
  });

  it('accepts heap flags from the allow-list', () => {
    const nodeArgs = ['--max-old-space-size=256', '--max-semi-space-size=4', '--heap-growing-percent=20'];
    expect(validateManifest({ ...FULL, runtime: { nodeArgs } }).runtime?.nodeArgs).toEqual(nodeArgs);
  });

  it('lists every violation, one per line, not just the first', () => {
    const err = errorOf({ ...FULL, id: '!', version: 'one', capabilities: ['nope'] });
    expect(err.message.split('\n').length).toBe(1 + err.problems.length);
    expect(err.problems.map((p) => p.split(':')[0])).toEqual(expect.arrayContaining(['/id', '/version', '/capabilities/0']));
    expect(err.message).toMatch(/^plugin manifest '!' is invalid:/);
  });
});

describe('PluginRegistry', () => {
  it('mints a 32-byte base64url token and looks it up', () => {
    const r = new PluginRegistry();
    const { token } = r.register(FULL);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.lookup(token)?.id).toBe('kinfolder');
    expect(r.lookup(`${token}x`)).toBeUndefined();
  });

  it('a later register for the same plugin id replaces the old token', () => {
    const r = new PluginRegistry();
    const first = r.register(FULL).token;
    const second = r.register(FULL).token;
    expect(second).not.toBe(first);
    expect(r.lookup(first)).toBeUndefined();
    expect(r.lookup(second)?.id).toBe('kinfolder');
  });

  it('refuses to register an invalid manifest', () => {
    const r = new PluginRegistry();
    expect(() => r.register({ ...FULL, capabilities: ['everything'] } as never)).toThrow(PluginManifestError);
  });
});
