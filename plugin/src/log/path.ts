/**
 * Clean folder paths: what an entry may name. A path from a peer becomes a file name on
 * every member's disk, so anything that could escape the folder, alias another path or
 * differ between file systems is refused with a precise reason.
 */
import { isWellFormed } from './codec';
import type { EntryBody } from './types';

export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_SEGMENTS = 64;
/** The folder's own bookkeeping (versions, temp files) lives here and is never synced. */
export const RESERVED_DIR = '.kinfolder';

export type PathProblem =
  | 'EMPTY'
  | 'NUL'
  | 'CONTROL_CHAR'
  | 'BACKSLASH'
  | 'NOT_WELL_FORMED'
  | 'NOT_NFC'
  | 'TOO_LONG'
  | 'ABSOLUTE'
  | 'TRAILING_SLASH'
  | 'EMPTY_SEGMENT'
  | 'DOT_SEGMENT'
  | 'DOTDOT_SEGMENT'
  | 'SEGMENT_TOO_LONG'
  | 'TOO_DEEP'
  | 'RESERVED';

// C0 controls, DEL and C1 controls: invisible, and some file systems refuse them.
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;
const ASCII = /^[\x00-\x7f]*$/;

/** Returns why `p` is not a clean path, or null when it is. */
export function pathProblem(p: string): PathProblem | null {
  if (p.length > 0 && p.length <= MAX_PATH_BYTES) {
    const quick = cleanAsciiPath(p);
    if (quick) return null;
  }
  return pathProblemSlow(p);
}

/**
 * One pass over a printable-ASCII path (every path a scanner of an ordinary folder writes):
 * true when it is certainly clean. Anything else, or anything it is unsure of, goes through
 * the full checks below, which alone decide which problem to report.
 */
function cleanAsciiPath(p: string): boolean {
  let segments = 1;
  let segStart = 0;
  const n = p.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? p.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0 || len > MAX_SEGMENT_BYTES) return false;
      if (p.charCodeAt(segStart) === 0x2e && (len === 1 || (len === 2 && p.charCodeAt(segStart + 1) === 0x2e))) return false;
      if (segStart === 0 && len === RESERVED_DIR.length && p.slice(0, len).toLowerCase() === RESERVED_DIR) return false;
      if (i < n && ++segments > MAX_SEGMENTS) return false;
      segStart = i + 1;
    } else if (c < 0x20 || c >= 0x7f || c === 0x5c) return false; // controls, DEL, non-ASCII, backslash
  }
  return true;
}

/** The full checks, in the order that decides which problem is reported (exported for tests of the fast path). */
export function pathProblemSlow(p: string): PathProblem | null {
  if (p.length === 0) return 'EMPTY';
  if (p.includes('\0')) return 'NUL';
  if (CONTROL.test(p)) return 'CONTROL_CHAR';
  if (p.includes('\\')) return 'BACKSLASH';
  if (!ASCII.test(p)) {
    // ASCII is always NFC and well formed: only other paths pay for the checks.
    if (!isWellFormed(p)) return 'NOT_WELL_FORMED';
    if (p.normalize('NFC') !== p) return 'NOT_NFC';
  }
  if (Buffer.byteLength(p, 'utf8') > MAX_PATH_BYTES) return 'TOO_LONG';
  if (p.startsWith('/')) return 'ABSOLUTE';
  if (p.endsWith('/')) return 'TRAILING_SLASH';
  const segments = p.split('/');
  if (segments.length > MAX_SEGMENTS) return 'TOO_DEEP';
  for (const s of segments) {
    if (s.length === 0) return 'EMPTY_SEGMENT';
    if (s === '.') return 'DOT_SEGMENT';
    if (s === '..') return 'DOTDOT_SEGMENT';
    if (Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES) return 'SEGMENT_TOO_LONG';
  }
  // Case-insensitive: on macOS and Windows `.KinFolder` is the same directory.
  if (segments[0].toLowerCase() === RESERVED_DIR) return 'RESERVED';
  return null;
}

export const isCleanPath = (p: string): boolean => pathProblem(p) === null;

/** True when `p` is `prefix` itself or lies below it. */
export const isUnder = (p: string, prefix: string): boolean =>
  p === prefix || (p.length > prefix.length && p.charCodeAt(prefix.length) === 0x2f && p.startsWith(prefix));

/** The paths an entry body touches: one for put/delete, two for move. */
export function pathsOf(body: EntryBody): string[] {
  return body.op === 'move' ? [body.from, body.to] : [body.path];
}
