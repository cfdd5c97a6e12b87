/**
 * The local control socket (`<dataDir>/control.sock`, owner-only) through which the CLI
 * talks to a running node: one JSON request per line, one JSON reply per line.
 */
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ChatTarget } from '../adapter';
import { HostError } from '../errors';
import { DevhostError } from './errors';
import type { DevhostNode } from './node';

export type ControlRequest =
  | { op: 'self' }
  | { op: 'cert' }
  | { op: 'peers' }
  | { op: 'friend.add'; cert: string }
  | { op: 'friend.remove'; fingerprint: string }
  | { op: 'chat.send'; to: ChatTarget; text: string; waitOnlineMs?: number }
  | { op: 'chat.history'; of: ChatTarget; limit?: number };

type ControlReply = { ok: true; result: unknown } | { ok: false; code: string; message: string };

const MAX_REQUEST_BYTES = 256 * 1024;

export const controlSocketPath = (dataDir: string): string => path.join(dataDir, 'control.sock');

async function handle(node: DevhostNode, req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'self':
      return { ...node.self(), address: node.listenAddress };
    case 'cert':
      return node.certificate();
    case 'peers':
      return node.peers().map(({ publicKeyArmored: _k, ...p }) => ({ ...p, address: node.friends().find((f) => f.fingerprint === p.fingerprint)?.address }));
    case 'friend.add':
      return node.addFriend(String(req.cert));
    case 'friend.remove':
      await node.removeFriend(String(req.fingerprint));
      return null;
    case 'chat.send':
      if ('peer' in req.to && req.waitOnlineMs) await node.whenOnline(req.to.peer, Math.min(req.waitOnlineMs, 60_000));
      return node.sendChat(req.to, String(req.text));
    case 'chat.history':
      return node.chatHistory(req.of, req.limit ?? 50);
    default:
      throw new DevhostError('CONTROL_FAILED', `unknown op ${(req as { op: string }).op}`);
  }
}

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(node: DevhostNode, dataDir: string): Promise<ControlServer> {
  const sockPath = controlSocketPath(dataDir);
  if (await isAnswering(sockPath)) throw new DevhostError('CONTROL_FAILED', `another node is already running on ${dataDir}`);
  await fs.rm(sockPath, { force: true });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      if (buf.length > MAX_REQUEST_BYTES) return socket.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void (async () => {
          let reply: ControlReply;
          try {
            reply = { ok: true, result: await handle(node, JSON.parse(line) as ControlRequest) };
          } catch (err) {
            const code = err instanceof DevhostError || err instanceof HostError ? err.code : 'INTERNAL';
            reply = { ok: false, code, message: (err as Error).message };
          }
          if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
        })();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sockPath, () => resolve());
  });
  await fs.chmod(sockPath, 0o600);
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(sockPath, { force: true });
    },
  };
}

function isAnswering(sockPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(sockPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends one request to the running node; DevhostError NOT_RUNNING if none answers. */
export function controlRequest(dataDir: string, req: ControlRequest, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(controlSocketPath(dataDir));
    let buf = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DevhostError('CONTROL_FAILED', `no reply from the node within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(req)}\n`);
    });
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.destroy();
      const reply = JSON.parse(buf.slice(0, nl)) as ControlReply;
      if (reply.ok) resolve(reply.result);
      else reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) reject(new DevhostError('NOT_RUNNING', `no node is running on ${dataDir}`));
      else reject(new DevhostError('CONTROL_FAILED', err.message));
    });
  });
}
