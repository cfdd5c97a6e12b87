/**
 * The HTTP/2 flow-control window of the plugin ↔ host connection, the same on both ends.
 *
 * Why not larger: Node's http2 wedges a connection for good when both ends have more data in
 * flight than the socket's buffers hold. Each end's write then waits for the other to read,
 * and neither reads while its own write is in progress. Measured on this machine over a unix
 * socket (buffers of 208 KB): both ends writing 16 MiB at once finish with windows of 64 KiB
 * and 192 KiB, and stop within a second at 256 KiB and above (test/host-bridge/server/window.test.ts).
 * Under a catch-up it stopped Carol's sidecar at 36–85k of 100k entries in 4 runs out of 20
 * with the 8 MiB windows set before. A window a little under the socket buffer stays clear of it.
 *
 * Why not the default 64 KiB: a Links stream then waits for a window update every 64 KiB, a
 * round trip through two busy event loops.
 */
import * as fs from 'node:fs';

const KiB = 1024;
const FALLBACK_BUFFER_BYTES = 208 * KiB;
const MIN_WINDOW_BYTES = 64 * KiB;
const MAX_WINDOW_BYTES = 8 * 1024 * KiB;

function sysctlBytes(name: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The default socket buffer, the smaller of send and receive (Linux; elsewhere a fixed 208 KB). */
export function socketBufferBytes(): number {
  const sizes = [sysctlBytes('wmem_default'), sysctlBytes('rmem_default')].filter((n): n is number => n !== undefined);
  return sizes.length > 0 ? Math.min(...sizes) : FALLBACK_BUFFER_BYTES;
}

/** 7/8 of the socket buffer, in 16 KiB steps, between 64 KiB and 8 MiB. */
export function contractWindowBytes(bufferBytes: number = socketBufferBytes()): number {
  const w = Math.floor((bufferBytes * 7) / 8 / (16 * KiB)) * 16 * KiB;
  return Math.min(MAX_WINDOW_BYTES, Math.max(MIN_WINDOW_BYTES, w));
}

export const CONTRACT_WINDOW_BYTES = contractWindowBytes();
