/**
 * Body of a HashPool worker thread: runs hashFile for the jobs the pool sends, several at
 * once (small files wait on the disk, not the CPU), and answers each with its result or error.
 */
import { parentPort } from 'node:worker_threads';
import { hashFile } from './hash-file';
import { ScanError } from './errors';
import type { ChunkerOptions } from './chunker';

export type WorkerRequest =
  | { readonly kind: 'hash'; readonly id: number; readonly path: string; readonly chunker?: ChunkerOptions }
  | { readonly kind: 'cancel'; readonly id: number };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: Awaited<ReturnType<typeof hashFile>> }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

const port = parentPort;
if (port) {
  const running = new Map<number, AbortController>();
  port.on('message', (req: WorkerRequest) => {
    if (req.kind === 'cancel') {
      running.get(req.id)?.abort();
      return;
    }
    const controller = new AbortController();
    running.set(req.id, controller);
    hashFile(req.path, { signal: controller.signal, chunker: req.chunker }).then(
      (result) => port.postMessage({ id: req.id, ok: true, result } satisfies WorkerReply),
      (e: unknown) => {
        const code = e instanceof ScanError ? e.code : 'IO_ERROR';
        port.postMessage({ id: req.id, ok: false, code, message: (e as Error).message } satisfies WorkerReply);
      },
    ).finally(() => running.delete(req.id));
  });
}
