/**
 * The copies this node keeps of local changes the manifest refused (a reader's edit, a writer's
 * edit outside its grant). They are never announced and never touched by apply, until the user
 * deletes them. The list lives in `.kinfolder/local-copies.json`, so that neither a restart's
 * rescan nor a later promotion to writer turns a copy into an entry by surprise.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { META_DIR } from '../scan';

export const LOCAL_COPIES_REL = `${META_DIR}/local-copies.json`;

interface FileFormat {
  readonly version: 1;
  readonly paths: readonly string[];
}

export class LocalCopies {
  /** Live set (the scanner's ignore rules read it): the copies and everything under them. */
  readonly paths = new Set<string>();
  private readonly file: string;

  private constructor(private readonly root: string) {
    this.file = path.join(root, ...LOCAL_COPIES_REL.split('/'));
  }

  /** Reads the list; copies the user has deleted since are dropped from it. */
  static async load(root: string): Promise<LocalCopies> {
    const c = new LocalCopies(path.resolve(root));
    let listed: readonly string[] = [];
    try {
      const parsed = JSON.parse(await fsp.readFile(c.file, 'utf8')) as Partial<FileFormat>;
      if (parsed.version === 1 && Array.isArray(parsed.paths)) listed = parsed.paths.filter((p): p is string => typeof p === 'string');
    } catch (e) {
      // Missing: none yet. Unreadable JSON (a torn write cannot happen, see save): start over.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
    }
    let dropped = false;
    for (const p of listed) {
      if (await exists(path.join(c.root, ...p.split('/')))) c.paths.add(p);
      else dropped = true;
    }
    if (dropped) await c.save();
    return c;
  }

  has(p: string): boolean {
    return this.paths.has(p);
  }

  /** Adds copies and saves the list; call before the copies appear on disk. */
  async add(ps: readonly string[]): Promise<void> {
    if (ps.length === 0) return;
    for (const p of ps) this.paths.add(p);
    await this.save();
  }

  /** Temp file, fsync, rename: the list on disk is the old one or the new one. */
  private async save(): Promise<void> {
    const body: FileFormat = { version: 1, paths: [...this.paths].sort() };
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    const h = await fsp.open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(JSON.stringify(body));
      await h.sync();
    } finally {
      await h.close();
    }
    try {
      await fsp.rename(tmp, this.file);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }
}

async function exists(abs: string): Promise<boolean> {
  try {
    await fsp.lstat(abs);
    return true;
  } catch {
    return false;
  }
}
