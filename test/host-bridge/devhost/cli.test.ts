/** The CLI as a user runs it: real processes through the bin shim, temp data dirs. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './helpers';

const run = promisify(execFile);
const BIN = path.join(__dirname, '../../../host-bridge/bin/kinfolder-devhost.js');
const cli = async (...args: string[]) => (await run(process.execPath, [BIN, ...args], { timeout: 60_000 })).stdout.trim();

/** Waits for `re` on the child's stdout (the process says when it is ready). */
function waitOutput(child: ChildProcess, re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in: ${buf}`)), ms);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = buf.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${buf}`)));
  });
}

/** Re-checks a condition that another process makes true, until it holds or time runs out. */
async function eventually<T>(fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('kinfolder-devhost CLI', () => {
  let root: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    root = await tempDir('kf-cli-');
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await fs.rm(root, { recursive: true, force: true });
  });

  test('init, cert, friend add/list/remove, then run two nodes and chat between them', async () => {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    const initA = await cli('init', '--data', a, '--name', 'Alice');
    expect(initA).toMatch(/^created identity [0-9A-F]{40} \(Alice, ed25519\)\nkfcert1:/);
    await cli('init', '--data', b, '--name', 'Bob');
    expect((await fs.stat(path.join(a, 'identity', 'key.asc'))).mode & 0o777).toBe(0o600);
    expect(await cli('init', '--data', a, '--name', 'Other')).toMatch(/^existing identity .* \(Alice, ed25519\)/);

    const certA = await cli('cert', '--data', a);
    const certB = await cli('cert', '--data', b);
    // Same node, same fields (signatures are salted, so the bytes differ between runs).
    const body = (c: string) => Buffer.from(c.slice('kfcert1:'.length), 'base64url').subarray(0, 600).toString('hex');
    expect(body(certA)).toBe(body(initA.split('\n')[1]));
    const fpA = /identity ([0-9A-F]{40})/.exec(initA)![1];
    const added = await cli('friend', 'add', '--data', a, certB);
    const fpB = /^friend ([0-9A-F]{40}) Bob$/.exec(added)![1];
    await cli('friend', 'add', '--data', b, certA);
    expect(await cli('friend', 'list', '--data', a)).toMatch(new RegExp(`^${fpB}\\tBob\\toffline\\t127\\.0\\.0\\.1:\\d+$`));

    // A tampered certificate is refused with its code and a non-zero exit.
    const bad = certB.slice(0, 60) + (certB[60] === 'A' ? 'B' : 'A') + certB.slice(61);
    await expect(cli('friend', 'add', '--data', a, bad)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('CERT_INVALID') });

    const runA = spawn(process.execPath, [BIN, 'run', '--data', a], { stdio: ['ignore', 'pipe', 'pipe'] });
    const runB = spawn(process.execPath, [BIN, 'run', '--data', b], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(runA, runB);
    await Promise.all([waitOutput(runA, /listening on 127\.0\.0\.1:\d+/), waitOutput(runB, /listening on 127\.0\.0\.1:\d+/)]);

    // Through the control socket of the running node; --wait covers the link still coming up.
    expect(await cli('chat', 'send', '--data', a, '--to', fpB, '--wait', '15000', 'hello from the cli')).toBe(`delivered to ${fpB}`);
    expect(await cli('friend', 'list', '--data', a)).toMatch(/\tBob\tonline\t/);
    const history = await eventually(async () => {
      const h = await cli('chat', 'history', '--data', b, '--with', fpA);
      return h.includes('hello from the cli') ? h : undefined;
    });
    expect(history).toMatch(/\tAlice\thello from the cli$/);

    const exits = [runA, runB].map((c) => new Promise<number | null>((r) => c.once('exit', (code) => r(code))));
    runA.kill('SIGTERM');
    runB.kill('SIGINT');
    expect(await Promise.all(exits)).toEqual([0, 0]);
    await expect(fs.stat(path.join(a, 'control.sock'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Alice not running: `chat send` starts her node briefly, waits for Bob, sends and stops.
    const runB2 = spawn(process.execPath, [BIN, 'run', '--data', b], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(runB2);
    await waitOutput(runB2, /listening on/);
    expect(await cli('chat', 'send', '--data', a, '--to', fpB, '--wait', '15000', 'sent by a brief node')).toBe(`delivered to ${fpB}`);
    await eventually(async () => ((await cli('chat', 'history', '--data', b, '--with', fpA)).includes('sent by a brief node') ? true : undefined));
    const exitB2 = new Promise((r) => runB2.once('exit', r));
    runB2.kill('SIGTERM');
    expect(await exitB2).toBe(0);
    // Nobody running: not delivered, but kept in Alice's history.
    expect(await cli('chat', 'send', '--data', a, '--to', fpB, '--wait', '300', 'into the void')).toMatch(/^not delivered/);
    expect(await cli('chat', 'history', '--data', a, '--with', fpB)).toMatch(/\tAlice\tinto the void$/);

    // Offline again: friend remove edits the data dir directly.
    expect(await cli('friend', 'remove', '--data', a, fpB)).toBe(`removed ${fpB}`);
    expect(await cli('friend', 'list', '--data', a)).toBe('');
    await expect(cli('cert', '--data', path.join(root, 'nothing'))).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('IDENTITY_INVALID') });
  }, 180_000);
});
