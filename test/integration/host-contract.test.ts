/**
 * The host contract end to end: real devhost apps (TLS links between them), the contract
 * server on a Unix socket, the sidecar's HostClient, real sidecar processes, and GnuPG.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { filter, firstValueFrom, startWith, timeout } from 'rxjs';
import { pluginSignedMessage } from '../../proto';
import { startDevhostApp, loadManifestFile, type DevhostApp } from '../../host-bridge/src/app';
import { HostClient, verifyHostSignature, type LinkMessage, type ChatMessage } from '../../plugin/src/host';
import { tempDir, waitFor, waitPeerOnline } from '../host-bridge/devhost/helpers';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const MANIFEST = path.join(ROOT, 'plugin.manifest.json');
const SERVICE = 'kinfolder.sync.v1';

describe('host contract end to end', () => {
  const dirs: string[] = [];
  const apps: DevhostApp[] = [];
  const clients: HostClient[] = [];

  async function app(name: string, dataDir?: string, plugins: string[] = []): Promise<DevhostApp> {
    const dir = dataDir ?? (await tempDir('kf-int-'));
    if (!dataDir) dirs.push(dir);
    const a = await startDevhostApp({ dataDir: dir, name, plugins, log: () => {} });
    apps.push(a);
    return a;
  }

  async function client(a: DevhostApp): Promise<HostClient> {
    const { token } = await a.registerPlugin(await loadManifestFile(MANIFEST));
    const c = new HostClient({ address: a.contractAddress, token, pluginId: 'kinfolder', backoff: { initialMs: 50, maxMs: 500 } });
    clients.push(c);
    c.start();
    await c.ready();
    return c;
  }

  async function friends(a: DevhostApp, b: DevhostApp): Promise<void> {
    await a.devhost.node.addFriend(b.devhost.node.certificate());
    await b.devhost.node.addFriend(a.devhost.node.certificate());
    await waitPeerOnline(a.devhost.node, b.devhost.node.self().fingerprint);
    await waitPeerOnline(b.devhost.node, a.devhost.node.self().fingerprint);
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await Promise.all(apps.splice(0).map((a) => a.stop()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('a sidecar reads its identity and friends, and its plugins talk over the TLS link and chat both ways', async () => {
    const alice = await app('Alice');
    const bob = await app('Bob');
    await friends(alice, bob);
    const [ca, cb] = [await client(alice), await client(bob)];
    const bobFp = bob.devhost.node.self().fingerprint;
    const aliceFp = alice.devhost.node.self().fingerprint;

    const self = await ca.getSelf();
    expect(self).toMatchObject({ fingerprint: aliceFp, displayName: 'Alice', pluginId: 'kinfolder', contractVersion: 'kinfolder.host.v1' });
    const peers = await waitFor(ca.peers$, (p) => p.some((x) => x.fingerprint === bobFp && x.online), 10_000, 'Bob online');
    expect(peers.find((p) => p.fingerprint === bobFp)?.name).toBe('Bob');

    const toBob = firstValueFrom(cb.linkMessages$.pipe(timeout(10_000)));
    await ca.sendLink(bobFp, SERVICE, Buffer.from('hello bob'));
    expect(await toBob).toMatchObject<Partial<LinkMessage>>({ peer: aliceFp, service: SERVICE });
    expect(Buffer.from((await toBob).payload).toString()).toBe('hello bob');
    const toAlice = firstValueFrom(ca.linkMessages$.pipe(timeout(10_000)));
    await cb.sendLink(aliceFp, SERVICE, Buffer.from('hello alice'));
    expect(Buffer.from((await toAlice).payload).toString()).toBe('hello alice');

    const chatAtBob = waitFor(cb.chat$, (m: ChatMessage) => !m.outgoing, 10_000, 'chat at Bob');
    const sent = await ca.sendChat({ peer: bobFp }, 'are you there?');
    expect(sent.deliveredTo).toEqual([bobFp]);
    expect(await chatAtBob).toMatchObject({ from: aliceFp, text: 'are you there?' });
    const chatAtAlice = waitFor(ca.chat$, (m: ChatMessage) => !m.outgoing, 10_000, 'chat at Alice');
    await cb.sendChat({ peer: aliceFp }, 'yes');
    expect(await chatAtAlice).toMatchObject({ from: bobFp, text: 'yes' });
  });

  it('signs through the host, and the signature verifies with openpgp and with gpg --verify', async () => {
    const alice = await app('Alice');
    const c = await client(alice);
    const self = await c.getSelf();
    const payload = Buffer.from('checkpoint bytes \u0000\u00ff', 'latin1');
    const sig = await c.sign(payload);
    await expect(verifyHostSignature({ publicKeyArmored: self.publicKeyArmored, pluginId: 'kinfolder', payload, signature: sig.signature })).resolves.toBe(true);
    await expect(verifyHostSignature({ publicKeyArmored: self.publicKeyArmored, pluginId: 'another-plugin', payload, signature: sig.signature })).resolves.toBe(false);

    const gnupg = await tempDir('kf-gpg-');
    dirs.push(gnupg);
    await fs.chmod(gnupg, 0o700);
    const env = { ...process.env, GNUPGHOME: gnupg };
    await fs.writeFile(path.join(gnupg, 'pub.asc'), self.publicKeyArmored);
    await fs.writeFile(path.join(gnupg, 'msg'), pluginSignedMessage('kinfolder', payload));
    await fs.writeFile(path.join(gnupg, 'msg.sig'), sig.signature);
    await fs.writeFile(path.join(gnupg, 'msg.asc'), sig.armored);
    await run('gpg', ['--batch', '--import', path.join(gnupg, 'pub.asc')], { env });
    const ok = await run('gpg', ['--batch', '--status-fd', '1', '--verify', path.join(gnupg, 'msg.sig'), path.join(gnupg, 'msg')], { env });
    expect(ok.stdout).toContain(`VALIDSIG ${self.fingerprint}`);
    const okArmored = await run('gpg', ['--batch', '--status-fd', '1', '--verify', path.join(gnupg, 'msg.asc'), path.join(gnupg, 'msg')], { env });
    expect(okArmored.stdout).toContain('GOODSIG');

    const tampered = Buffer.from(pluginSignedMessage('kinfolder', payload));
    tampered[tampered.length - 1] ^= 1;
    await fs.writeFile(path.join(gnupg, 'bad'), tampered);
    await expect(run('gpg', ['--batch', '--verify', path.join(gnupg, 'msg.sig'), path.join(gnupg, 'bad')], { env })).rejects.toMatchObject({ code: 1 });
  });

  it('the host restarts: the sidecar reconnects by itself and its streams resume', async () => {
    const aliceDir = await tempDir('kf-int-');
    dirs.push(aliceDir);
    let alice = await app('Alice', aliceDir);
    const bob = await app('Bob');
    await friends(alice, bob);
    const c = await client(alice);
    const cb = await client(bob);
    const bobFp = bob.devhost.node.self().fingerprint;
    const aliceFp = alice.devhost.node.self().fingerprint;
    const states: string[] = [];
    c.state$.subscribe((s) => states.push(s));

    const offline = waitFor(c.state$, (s) => s === 'offline', 10_000, 'offline');
    await alice.stop();
    apps.splice(apps.indexOf(alice), 1);
    await offline;

    alice = await app('Alice', aliceDir);
    await waitFor(c.state$, (s) => s === 'ready', 15_000, 'ready again');
    expect(states).toEqual(expect.arrayContaining(['ready', 'offline']));
    // The same subscriptions, opened before the restart, deliver again.
    await waitFor(c.peers$, (p) => p.some((x) => x.fingerprint === bobFp && x.online), 15_000, 'Bob online again');
    const again = firstValueFrom(c.linkMessages$.pipe(timeout(10_000)));
    await waitPeerOnline(bob.devhost.node, aliceFp);
    await cb.sendLink(aliceFp, SERVICE, Buffer.from('after restart'));
    expect(Buffer.from((await again).payload).toString()).toBe('after restart');
    const chat = waitFor(c.chat$, (m: ChatMessage) => !m.outgoing, 10_000, 'chat after restart');
    await cb.sendChat({ peer: aliceFp }, 'welcome back');
    expect((await chat).text).toBe('welcome back');
  });

  it('runs the real sidecar process, which registers its panel; the panel API takes only the host-issued token', async () => {
    const alice = await app('Alice', undefined, [MANIFEST]);
    const node = alice.devhost.node;
    const [panel] = await firstValueFrom(node.panelEvents.pipe(startWith(node.listPanels()), filter((p) => p.length > 0), timeout(30_000)));
    expect(panel).toMatchObject({ pluginId: 'kinfolder', id: 'folders', title: 'Shared folders' });
    const token = node.panelToken('kinfolder', 'folders')!;
    // The host lists the panel just before the sidecar holds the token: 503 until then.
    const deadline = Date.now() + 10_000;
    let ok = await fetch(new URL('api/status', panel.url), { headers: { authorization: `Bearer ${token}` } });
    while (ok.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      ok = await fetch(new URL('api/status', panel.url), { headers: { authorization: `Bearer ${token}` } });
    }
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ self: { displayName: 'Alice' } });
    const wrong = await fetch(new URL('api/status', panel.url), { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });
});
