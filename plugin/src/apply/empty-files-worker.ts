/**
 * Body of the EmptyFiles worker thread: makes the new files of a batch one after the other
 * with blocking calls (create exclusively, write the bytes given if any, times, stat,
 * close; durability is the caller's: a shared sync) and answers with each file's stat or errno. A file it made but could
 * not finish is removed again. It also puts finished temp files in place (`place`): a rename
 * only where nothing stands.
 */
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface EmptyFileRequest {
  readonly path: string;
  readonly mode: number;
  /** fchmod after the create (the umask took bits of `mode`). */
  readonly chmod: boolean;
  /** futimes argument (seconds). */
  readonly timeSec: number;
  /** Bytes to write, in order from offset 0 (a small file's verified blocks); none: an empty file. */
  readonly data?: readonly Uint8Array[];
}

/** Renames `from` to `to` when nothing stands at `to` (else EEXIST, and nothing is moved). */
export interface PlaceRequest {
  readonly op: 'place';
  readonly from: string;
  readonly to: string;
}

export type PlaceResult = { readonly ok: true } | Extract<EmptyFileResult, { ok: false }>;

export type EmptyFileResult =
  | { readonly ok: true; readonly ino: number; readonly mode: number; readonly size: number; readonly mtimeMs: number }
  | { readonly ok: false; readonly code?: string; readonly syscall?: string; readonly message: string };

export interface EmptyFilesBatch {
  readonly id: number;
  readonly files: readonly (EmptyFileRequest | PlaceRequest)[];
}

export interface EmptyFilesReply {
  readonly id: number;
  readonly results: readonly (EmptyFileResult | PlaceResult)[];
}

/**
 * The check and the rename are two calls, as they were on the main thread (apply checks the
 * target right before its rename): this guards against what peers send, not against a local
 * program racing us, which the scanner then reports as the change it is.
 */
export function place(p: PlaceRequest): PlaceResult {
  try {
    if (fs.lstatSync(p.to, { throwIfNoEntry: false }) !== undefined) return { ok: false, code: 'EEXIST', syscall: 'rename', message: `${p.to} exists` };
    fs.renameSync(p.from, p.to);
    return { ok: true };
  } catch (e) {
    return failure(e);
  }
}

export function makeEmpty(f: EmptyFileRequest): EmptyFileResult {
  let fd: number;
  try {
    fd = fs.openSync(f.path, 'wx', f.mode);
  } catch (e) {
    return failure(e);
  }
  try {
    try {
      let at = 0;
      for (const d of f.data ?? []) {
        for (let off = 0; off < d.length; ) off += fs.writeSync(fd, d, off, d.length - off, at + off);
        at += d.length;
      }
      if (f.chmod) fs.fchmodSync(fd, f.mode);
      fs.futimesSync(fd, f.timeSec, f.timeSec);
      const st = fs.fstatSync(fd);
      return { ok: true, ino: st.ino, mode: st.mode, size: st.size, mtimeMs: st.mtimeMs };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    // Made here a moment ago (exclusively): taken back rather than left for the scanner to announce.
    try {
      fs.unlinkSync(f.path);
    } catch {
      // Gone already.
    }
    return failure(e);
  }
}

function failure(e: unknown): EmptyFileResult {
  const err = e as NodeJS.ErrnoException;
  return { ok: false, code: err?.code, syscall: err?.syscall, message: String(err?.message ?? e) };
}

const port = parentPort;
if (port) {
  port.on('message', (batch: EmptyFilesBatch) => {
    port.postMessage({ id: batch.id, results: batch.files.map((f) => ('op' in f ? place(f) : makeEmpty(f))) } satisfies EmptyFilesReply);
  });
}
