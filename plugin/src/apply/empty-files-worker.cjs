// @ts-check
/**
 * Body of the EmptyFiles worker thread: makes the new files of a batch one after the other
 * with blocking calls (create exclusively, write the bytes given if any, times, stat,
 * close; durability is the caller's: a shared sync) and answers with each file's stat or errno. A file it made but could
 * not finish is removed again. It also puts finished temp files in place (`place`): a rename
 * only where nothing stands.
 *
 * Plain JavaScript (its types checked from JSDoc): a worker started from TypeScript sources
 * had to load tsx, ~8 MB of each sidecar's 200 MB budget for two small files.
 */
'use strict';
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');

/** @typedef {import('./empty-files-types').EmptyFileRequest} EmptyFileRequest */
/** @typedef {import('./empty-files-types').PlaceRequest} PlaceRequest */
/** @typedef {import('./empty-files-types').PlaceResult} PlaceResult */
/** @typedef {import('./empty-files-types').EmptyFileResult} EmptyFileResult */
/** @typedef {import('./empty-files-types').EmptyFilesBatch} EmptyFilesBatch */
/** @typedef {import('./empty-files-types').EmptyFilesReply} EmptyFilesReply */

/**
 * The check and the rename are two calls, as they were on the main thread (apply checks the
 * target right before its rename): this guards against what peers send, not against a local
 * program racing us, which the scanner then reports as the change it is.
 * @param {PlaceRequest} p
 * @returns {PlaceResult}
 */
function place(p) {
  try {
    if (fs.lstatSync(p.to, { throwIfNoEntry: false }) !== undefined) return { ok: false, code: 'EEXIST', syscall: 'rename', message: `${p.to} exists` };
    fs.renameSync(p.from, p.to);
    return { ok: true };
  } catch (e) {
    return failure(e);
  }
}

/**
 * @param {EmptyFileRequest} f
 * @returns {EmptyFileResult}
 */
function makeEmpty(f) {
  let fd;
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

/**
 * @param {unknown} e
 * @returns {{ ok: false; code?: string; syscall?: string; message: string }}
 */
function failure(e) {
  const err = /** @type {NodeJS.ErrnoException} */ (e);
  return { ok: false, code: err?.code, syscall: err?.syscall, message: String(err?.message ?? e) };
}

const port = parentPort;
if (port) {
  port.on('message', (/** @type {EmptyFilesBatch} */ batch) => {
    /** @type {EmptyFilesReply} */
    const reply = { id: batch.id, results: batch.files.map((f) => ('op' in f ? place(f) : makeEmpty(f))) };
    port.postMessage(reply);
  });
}

module.exports = { place, makeEmpty };
