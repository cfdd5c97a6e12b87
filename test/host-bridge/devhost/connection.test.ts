// One link connection's write back-pressure across a graceful close (a duplicate link retired while a frame waits for drain).
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { Connection } from '../../../host-bridge/src/devhost/links/connection';
import { FrameDecoder, type Frame } from '../../../host-bridge/src/devhost/links';

test('a frame waiting for drain when the connection closes gracefully still goes out, and its sender is told it did', async () => {
  const received: Frame[] = [];
  const decoder = new FrameDecoder();
  let serverSide: net.Socket | undefined;
  const server = net.createServer((s) => {
    serverSide = s;
    s.pause(); // nothing read yet: the writer's buffer fills
    s.on('data', (c: Buffer) => received.push(...decoder.push(c)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', r));
  const conn = new Connection(socket as unknown as tls.TLSSocket, 'out', undefined, { onFrame: () => undefined, onClose: () => undefined });
  try {
    const payload = Buffer.alloc(4 * 1024 * 1024, 9);
    expect(conn.write({ kind: 'link', service: 's', payload })).toBe(false);
    const drained = conn.drained();
    conn.close('duplicate link', true);
    serverSide!.resume();
    await expect(drained).resolves.toBeUndefined();
    await new Promise<void>((r) => serverSide!.once('end', r));
    expect(received).toHaveLength(1);
    expect(received[0].kind === 'link' && received[0].payload.equals(payload)).toBe(true);
  } finally {
    socket.destroy();
    serverSide?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
