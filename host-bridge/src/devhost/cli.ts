/**
 * kinfolder-devhost: init an identity, print the certificate, manage friends, send chat, run
 * the node. Friend and chat commands go to the running node through its control socket
 * when one runs on the data dir; otherwise friends are edited on disk and `chat send`
 * starts the node briefly, waits for the friend to come online, sends and stops.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { ChatTarget, HostPeer } from '../adapter';
import { controlRequest } from './control';
import { DevhostError } from './errors';
import { identityExists } from './identity';
import { DevhostNode } from './node';
import { startDevhostApp } from '../app';

const out = (line: string) => process.stdout.write(`${line}\n`);
const quiet = () => undefined;

async function existingNode(dataDir: string): Promise<DevhostNode> {
  if (!(await identityExists(dataDir))) throw new DevhostError('IDENTITY_INVALID', `no identity in ${dataDir}: run \`kinfolder-devhost init --data ${dataDir} --name <name>\` first`);
  return DevhostNode.create({ dataDir, log: quiet });
}

/** Runs `viaControl` against the running node, or `offline` when no node runs on the data dir. */
async function withNode<T>(dataDir: string, viaControl: () => Promise<T>, offline: (node: DevhostNode) => Promise<T>): Promise<T> {
  try {
    return await viaControl();
  } catch (err) {
    if (!(err instanceof DevhostError && err.code === 'NOT_RUNNING')) throw err;
  }
  const node = await existingNode(dataDir);
  try {
    return await offline(node);
  } finally {
    await node.stop();
  }
}

const parseTarget = (to: string): ChatTarget => (to.startsWith('room:') ? { room: to.slice(5) } : { peer: to.toUpperCase() });

export function buildProgram(): Command {
  const program = new Command('kinfolder-devhost').description('A small friend-to-friend host node for Kinfolder').showHelpAfterError();
  const data = () => new Option('--data <dir>', 'data directory of the node').makeOptionMandatory();

  program
    .command('init')
    .description('create the identity (PGP key, location id, TLS key) and pick a listen port')
    .addOption(data())
    .requiredOption('--name <name>', 'display name (the PGP user id)')
    .addOption(new Option('--key <type>', 'key type').choices(['ed25519', 'rsa3072']).default('ed25519'))
    .option('--port <n>', 'listen port to remember (default: a free one)', (v) => Number.parseInt(v, 10))
    .action(async (o: { data: string; name: string; key: 'ed25519' | 'rsa3072'; port?: number }) => {
      const dataDir = path.resolve(o.data);
      const existed = await identityExists(dataDir);
      const node = await DevhostNode.create({ dataDir, name: o.name, keyType: o.key, listenPort: o.port, log: quiet });
      try {
        // Starting once generates the TLS key and settles the listen port the certificate names.
        await node.start();
        const self = node.self();
        out(`${existed ? 'existing' : 'created'} identity ${self.fingerprint} (${self.displayName}, ${self.keyAlgorithm})`);
        out(node.certificate());
      } finally {
        await node.stop();
      }
    });

  program
    .command('cert')
    .description('print this node’s certificate, to give to a friend')
    .addOption(data())
    .action(async (o: { data: string }) => {
      const dataDir = path.resolve(o.data);
      out(String(await withNode(dataDir, () => controlRequest(dataDir, { op: 'cert' }), async (n) => n.certificate())));
    });

  const friend = program.command('friend').description('manage friends');
  friend
    .command('add')
    .addOption(data())
    .argument('<cert>', 'the friend’s certificate (kfcert1:…)')
    .action(async (cert: string, o: { data: string }) => {
      const dataDir = path.resolve(o.data);
      const peer = (await withNode(dataDir, () => controlRequest(dataDir, { op: 'friend.add', cert }), (n) => n.addFriend(cert))) as HostPeer;
      out(`friend ${peer.fingerprint} ${peer.name}`);
    });
  friend
    .command('list')
    .addOption(data())
    .action(async (o: { data: string }) => {
      const dataDir = path.resolve(o.data);
      type Row = { fingerprint: string; name: string; online: boolean; address?: string };
      const rows = (await withNode(
        dataDir,
        () => controlRequest(dataDir, { op: 'peers' }),
        async (n) => n.friends().map((f) => ({ fingerprint: f.fingerprint, name: f.name, online: false, address: f.address })),
      )) as Row[];
      for (const r of rows) out(`${r.fingerprint}\t${r.name}\t${r.online ? 'online' : 'offline'}\t${r.address ?? ''}`);
    });
  friend
    .command('remove')
    .addOption(data())
    .argument('<fingerprint>')
    .action(async (fp: string, o: { data: string }) => {
      const dataDir = path.resolve(o.data);
      const fingerprint = fp.toUpperCase();
      await withNode(dataDir, () => controlRequest(dataDir, { op: 'friend.remove', fingerprint }), (n) => n.removeFriend(fingerprint));
      out(`removed ${fingerprint}`);
    });

  const chat = program.command('chat').description('chat with friends');
  chat
    .command('send')
    .addOption(data())
    .requiredOption('--to <target>', 'a friend’s fingerprint, or room:<id>')
    .option('--wait <ms>', 'how long to wait for the friend to come online', (v) => Number.parseInt(v, 10), 10_000)
    .argument('<text>')
    .action(async (text: string, o: { data: string; to: string; wait: number }) => {
      const dataDir = path.resolve(o.data);
      const to = parseTarget(o.to);
      const send = () => controlRequest(dataDir, { op: 'chat.send', to, text, waitOnlineMs: o.wait }, o.wait + 30_000);
      const result = (await withNode(dataDir, send, async (n) => {
        await n.start();
        if ('peer' in to) await n.whenOnline(to.peer, o.wait);
        return n.sendChat(to, text);
      })) as { deliveredTo: string[] };
      out(result.deliveredTo.length ? `delivered to ${result.deliveredTo.join(', ')}` : 'not delivered (recipient offline); kept in history');
    });

  chat
    .command('history')
    .addOption(data())
    .requiredOption('--with <target>', 'a friend’s fingerprint, or room:<id>')
    .option('--limit <n>', 'how many of the last messages', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { data: string; with: string; limit: number }) => {
      const dataDir = path.resolve(o.data);
      const of = parseTarget(o.with);
      type Msg = { sentAtMs: number; fromName: string; text: string };
      const msgs = (await withNode(dataDir, () => controlRequest(dataDir, { op: 'chat.history', of, limit: o.limit }), async (n) => n.chatHistory(of, o.limit))) as Msg[];
      for (const m of msgs) out(`${new Date(m.sentAtMs).toISOString()}\t${m.fromName}\t${m.text}`);
    });

  program
    .command('run')
    .description('run the node (links, web UI, host contract, plugins) until SIGINT/SIGTERM')
    .addOption(data())
    .option('--port <n>', 'link listen port (default: the remembered one)', (v) => Number.parseInt(v, 10))
    .option('--host <ip>', 'listen address', '127.0.0.1')
    .option('--web-port <n>', 'web UI port (default: any free one)', (v) => Number.parseInt(v, 10))
    .option('--plugin <manifest>', 'run the plugin this manifest describes (repeatable)', (v: string, all: string[]) => [...all, path.resolve(v)], [] as string[])
    .action(async (o: { data: string; port?: number; host: string; webPort?: number; plugin: string[] }) => {
      const dataDir = path.resolve(o.data);
      if (!(await identityExists(dataDir))) throw new DevhostError('IDENTITY_INVALID', `no identity in ${dataDir}: run init first`);
      const app = await startDevhostApp({ dataDir, listenPort: o.port, host: o.host, webPort: o.webPort, plugins: o.plugin });
      const self = app.devhost.node.self();
      out(`devhost ${self.displayName} ${self.fingerprint} listening on ${app.devhost.address}`);
      out(`web UI: ${app.web.url}`);
      out(`host contract: ${app.contractAddress}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await app.stop();
    });

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    process.stderr.write(`kinfolder-devhost: ${code ? `${code}: ` : ''}${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
