/**
 * Which paths the scanner leaves alone: `.kinignore` files (gitignore syntax, nested files
 * apply to their subtree like git), the manifest's folder-wide rules, and built-in rules for
 * temp and system files. `.kinfolder/` (our own metadata) is ignored at any depth and no rule
 * can bring it back. Pure: `.kinignore` texts are handed in, nothing is read here.
 *
 * Precedence, lowest first, last matching rule wins (as in git): built-ins, folder-wide rules,
 * the root `.kinignore`, then deeper `.kinignore` files. So a member can re-include `!keep.tmp`.
 * User rules are case-sensitive on every platform so that every member decides alike.
 */
import ignore, { type Ignore } from 'ignore';

export const KINIGNORE_FILE = '.kinignore';
export const META_DIR = '.kinfolder';

/** Matches system file names in any letter case (Windows and macOS do not care how they are spelled). */
function caseless(name: string): string {
  return [...name].map((c) => (c.toLowerCase() !== c.toUpperCase() ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');
}

/**
 * Temp, swap and system files. Conflict copies (`*.sync-conflict-*`) are deliberately absent:
 * they are real files that members must see.
 */
export const BUILTIN_IGNORE_PATTERNS: readonly string[] = Object.freeze([
  '*.swp',
  '*.swx',
  '*~',
  '.#*',
  '\\#*#',
  '*.tmp',
  '~$*',
  caseless('.DS_Store'),
  caseless('Thumbs.db'),
  caseless('desktop.ini'),
]);

/**
 * Rewrites one line of the `.kinignore` in directory `dir` so that it means the same thing
 * from the folder root: git anchors patterns with an inner slash to their file's directory
 * and lets the others match at any depth below it.
 */
export function rebasePattern(dir: string, line: string): string | undefined {
  if (dir === '') return line;
  if (line.trim() === '' || line.startsWith('#')) return undefined;
  let negate = '';
  let body = line;
  if (body.startsWith('!')) {
    negate = '!';
    body = body.slice(1);
  }
  const withoutTrailingSlash = body.replace(/\/+\s*$/, '');
  const anchored = withoutTrailingSlash.includes('/');
  if (anchored) return `${negate}${dir}/${body.replace(/^\/+/, '')}`;
  return `${negate}${dir}/**/${body}`;
}

/**
 * Answers remembered per generation (two generations at most). The watcher asks again and
 * again for the same paths, so recent answers are worth keeping; all of a 100k-file folder's
 * were not: with the `ignore` package's own cache, which keeps every path it was asked about
 * and never forgets, they were 15 MB of a sidecar's heap (100k entries scanned live).
 */
export const ANSWERS_PER_GENERATION = 8192;

export class IgnoreRules {
  private readonly folderRules: readonly string[];
  private readonly kinignores = new Map<string, string>();
  private matcher: Ignore | undefined;
  /** Answers (path + '/' for directories) until the rules change: the newest, then the ones before. */
  private young = new Map<string, boolean>();
  private old = new Map<string, boolean>();
  private localOnly: ReadonlySet<string> = new Set();

  /** `folderRules`: the manifest's folder-wide patterns (gitignore syntax, relative to the root). */
  constructor(folderRules: readonly string[] = []) {
    this.folderRules = [...folderRules];
  }

  /** Records (text) or forgets (undefined) the `.kinignore` of directory `dir` ('' is the root). */
  setKinignore(dir: string, text: string | undefined): void {
    if (text === undefined) this.kinignores.delete(dir);
    else this.kinignores.set(dir, text);
    this.matcher = undefined;
    this.young = new Map();
    this.old = new Map();
  }

  /** Answers remembered now (bounded by 2 × ANSWERS_PER_GENERATION). */
  get rememberedAnswers(): number {
    return this.young.size + this.old.size;
  }

  /**
   * Paths kept on this node only (the folder engine's copies of refused edits): they and
   * everything under them are ignored. The set is read live, so the owner may grow it.
   */
  setLocalOnly(paths: ReadonlySet<string>): void {
    this.localOnly = paths;
  }

  /** Directories whose `.kinignore` is currently applied. */
  kinignoreDirs(): string[] {
    return [...this.kinignores.keys()].sort();
  }

  /**
   * `relPath`: relative, '/'-separated, no leading './' or '/'. The root itself is never ignored.
   * A path under an ignored directory is ignored, and no rule can re-include it (as in git).
   */
  isIgnored(relPath: string, isDir: boolean): boolean {
    if (relPath === '' || relPath === '.') return false;
    const parts = relPath.split('/');
    if (parts.includes(META_DIR)) return true;
    if (this.localOnly.size > 0) {
      let prefix = '';
      for (const part of parts) {
        prefix = prefix === '' ? part : `${prefix}/${part}`;
        if (this.localOnly.has(prefix)) return true;
      }
    }
    const key = isDir ? `${relPath}/` : relPath;
    const recent = this.young.get(key);
    if (recent !== undefined) return recent;
    const answer = this.old.get(key) ?? this.getMatcher().ignores(key);
    this.young.set(key, answer);
    if (this.young.size >= ANSWERS_PER_GENERATION) {
      this.old = this.young;
      this.young = new Map();
      // The matcher caches every path (and directory) it was asked about, without a bound: a
      // new one starts empty. Building it costs microseconds per rule, once per generation.
      this.matcher = undefined;
    }
    return answer;
  }

  private getMatcher(): Ignore {
    if (this.matcher) return this.matcher;
    const m = ignore({ ignorecase: false });
    m.add(BUILTIN_IGNORE_PATTERNS as string[]);
    m.add(this.folderRules as string[]);
    // Ancestors before descendants, so a deeper file's rules come later and win.
    const dirs = [...this.kinignores.keys()].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const dir of dirs) {
      const lines = this.kinignores.get(dir)!.split(/\r?\n/);
      for (const line of lines) {
        const rebased = rebasePattern(dir, line);
        if (rebased !== undefined) m.add(rebased);
      }
    }
    this.matcher = m;
    return m;
  }
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}
