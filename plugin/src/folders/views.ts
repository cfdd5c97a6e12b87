/**
 * What the panel shows of one folder, read from the store, the log's state and the disk:
 * the file tree with each file's state, the activity feed, versions, conflicts, manifest history.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeSignedManifest, manifestHash, type ManifestVersion, type Member } from '../acl';
import { decodeEntry, type Entry } from '../log';
import type { Store } from '../store';
import { ServiceError } from './errors';
import type { SharedFolder } from './shared-folder';
import type { ActivityItem, ConflictView, FileVersion, FileView, ManifestChange } from './types';

const MAX_CHILDREN = 5000;
const VERSIONS_DIR = ['.kinfolder', 'versions'];

export class FolderViews {
  constructor(
    private readonly store: Store,
    private readonly nameOf: (fingerprint: string, f?: SharedFolder) => string,
  ) {}

  /** The direct children of `dir`: what is on disk (the local index) and what the log has there. */
  async files(f: SharedFolder, dir: string, openBy: ReadonlyMap<string, readonly string[]>): Promise<FileView[]> {
    const prefix = dir === '' ? '' : `${dir.replace(/\/+$/, '')}/`;
    const childOf = (p: string): { name: string; deeper: boolean } | undefined => {
      if (!p.startsWith(prefix) || p === dir) return undefined;
      const rest = p.slice(prefix.length);
      const slash = rest.indexOf('/');
      return slash < 0 ? { name: rest, deeper: false } : { name: rest.slice(0, slash), deeper: true };
    };
    const onDisk = new Map<string, { size: number; type: FileView['type'] }>();
    const inLog = new Set<string>();
    const dirs = new Set<string>();
    for await (const r of this.store.localFiles(f.id)) {
      const c = childOf(r.path);
      if (!c) continue;
      if (c.deeper) dirs.add(c.name);
      else onDisk.set(c.name, { size: r.size, type: r.type });
    }
    for await (const ph of this.store.pathsWithHeads(f.id)) {
      const c = childOf(ph.path);
      if (!c || ph.heads.length === 0) continue;
      if (c.deeper) dirs.add(c.name);
      else inLog.add(c.name);
    }
    const names = [...new Set([...onDisk.keys(), ...inLog, ...dirs])].filter((n) => !(prefix === '' && n === '.kinfolder')).sort();
    const out: FileView[] = [];
    for (const name of names.slice(0, MAX_CHILDREN)) {
      const p = prefix + name;
      const disk = onDisk.get(name);
      const res = inLog.has(name) || dirs.has(name) ? await f.replica.state.resolve(p) : undefined;
      const winner = res?.winner.live ? await f.entry(res.winner.hash) : undefined;
      const meta = winner && winner.body.op !== 'delete' ? winner.body.meta : undefined;
      // Deleted in the log and gone from disk: not shown (the deleted list has it).
      if (!disk && !dirs.has(name) && !res?.winner.live) continue;
      const type: FileView['type'] = meta?.type ?? disk?.type ?? 'dir';
      const open = openBy.get(p);
      let state: FileView['state'];
      if (res && res.losers.length > 0) state = 'conflict';
      else if (f.pending.has(p) || (meta && !disk && !dirs.has(name))) state = 'pending';
      else if (open?.length) state = 'in-use';
      else if (!res && disk && type !== 'dir') state = 'local-only';
      else state = 'synced';
      out.push({
        path: p,
        name,
        type,
        size: meta?.size ?? disk?.size ?? 0,
        state,
        ...(res ? { author: res.winner.author, authorName: this.nameOf(res.winner.author, f), changedAtMs: res.winner.wallTimeMs } : {}),
        ...(open?.length ? { openBy: open } : {}),
      });
    }
    // Directories first, then files, each by name: what file browsers do.
    return out.sort((a, b) => (a.type === 'dir') === (b.type === 'dir') ? (a.name < b.name ? -1 : 1) : a.type === 'dir' ? -1 : 1);
  }

  /** The newest `limit` entries of the folder, newest first. */
  async activity(f: SharedFolder, limit: number): Promise<ActivityItem[]> {
    const items: ActivityItem[] = [];
    for (const [author, { seq }] of await f.replica.versionVector()) {
      for await (const rec of this.store.entriesRange(f.id, author, Math.max(1, seq - limit + 1), seq)) {
        const e = decodeEntry(rec.bytes);
        items.push(this.item(f, rec.hash, e));
      }
    }
    return items.sort((a, b) => b.atMs - a.atMs).slice(0, limit);
  }

  /** The latest few entries after a change of `n` entries (for the live feed). */
  activitySince(f: SharedFolder, n: number): Promise<ActivityItem[]> {
    return this.activity(f, Math.min(Math.max(1, n), 50));
  }

  private item(f: SharedFolder, hash: string, e: Entry): ActivityItem {
    const b = e.body;
    const base = { entry: hash, author: e.author, authorName: this.nameOf(e.author, f), atMs: e.wallTimeMs };
    if (b.op === 'move') return { ...base, op: 'move', path: b.to, from: b.from };
    return { ...base, op: b.op, path: b.path };
  }

  async versions(f: SharedFolder, p: string): Promise<FileVersion[]> {
    const out: FileVersion[] = [];
    const res = await f.replica.state.resolve(p);
    if (res?.winner.live) {
      const e = await f.entry(res.winner.hash);
      const size = e && e.body.op === 'put' ? e.body.meta.size : 0;
      out.push({ version: 'current', atMs: res.winner.wallTimeMs, size, author: res.winner.author, authorName: this.nameOf(res.winner.author, f) });
    }
    for (const v of await f.engine.versions(p)) out.push({ version: v.version, atMs: v.keptAtMs, size: v.size });
    return out;
  }

  async conflicts(f: SharedFolder): Promise<ConflictView[]> {
    return (await f.engine.conflicts()).map((c) => ({
      path: c.path,
      versions: [c.winner, ...c.losers].map((v) => ({
        hash: v.hash,
        author: v.author,
        authorName: this.nameOf(v.author, f),
        atMs: v.wallTimeMs,
        size: v.size,
        diskPath: v.copyPath ?? (v === c.winner ? c.path : ''),
        winner: v === c.winner,
      })),
    }));
  }

  /**
   * A file's bytes: the current one, a conflicting version (by its entry hash: the copy on
   * disk) or a kept version (by its id under `.kinfolder/versions`). Never outside the folder.
   */
  async readFile(f: SharedFolder, p: string, version: string | undefined, maxBytes: number): Promise<Buffer> {
    let rel = p;
    let base = f.record.root;
    if (version !== undefined && version !== '' && version !== 'current') {
      if (/^[0-9a-f]{64}$/.test(version)) {
        const c = (await f.engine.conflicts()).find((x) => x.path === p);
        const v = c && [c.winner, ...c.losers].find((x) => x.hash === version);
        if (!v) throw new ServiceError('NOT_FOUND', `${p} has no conflicting version ${version}`);
        rel = v.copyPath ?? p;
      } else {
        if (version.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new ServiceError('BAD_INPUT', `${JSON.stringify(version)} is not a version id`);
        base = path.join(f.record.root, ...VERSIONS_DIR);
        rel = version;
      }
    }
    const abs = path.join(base, ...rel.split('/'));
    let fh: fsp.FileHandle;
    try {
      // No symlink is followed at the last step: a link in the folder must not read outside it.
      fh = await fsp.open(abs, fsp.constants.O_RDONLY | fsp.constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ServiceError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `${rel}: ${code === 'ENOENT' ? 'not here' : (e as Error).message}`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ServiceError('BAD_INPUT', `${rel} is not a file`);
      const buf = Buffer.alloc(Math.min(st.size, maxBytes));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Every manifest version, oldest first, with what it changed in words. */
  async manifestHistory(f: SharedFolder): Promise<ManifestChange[]> {
    const versions = f.replica
      .manifestChain()
      .map((b) => decodeSignedManifest(b).manifest)
      .map((m) => ({ hash: manifestHash(m), m }))
      .sort((a, b) => a.m.version - b.m.version);
    const byHash = new Map(versions.map((v) => [v.hash, v.m]));
    return versions.map(({ hash, m }) => ({
      version: m.version,
      hash,
      author: m.author,
      authorName: this.nameOf(m.author, f),
      createdAtMs: m.createdAtMs,
      summary: describe(m.prev ? byHash.get(m.prev) : undefined, m, (fp) => this.nameOf(fp, f)),
    }));
  }
}

function describe(before: ManifestVersion | undefined, after: ManifestVersion, nameOf: (fp: string) => string): string[] {
  if (!before) return [`created "${after.name}"`];
  const out: string[] = [];
  const was = new Map<string, Member>(before.members.map((m) => [m.fingerprint, m]));
  const who = (m: Member): string => nameOf(m.fingerprint) || m.name;
  for (const m of after.members) {
    const old = was.get(m.fingerprint);
    const scope = m.pathPrefixes?.length ? ` (only ${m.pathPrefixes.join(', ')})` : '';
    if (!old) out.push(`added ${who(m)} as ${m.role}${scope}`);
    else if (old.role !== m.role) out.push(`made ${who(m)} ${m.role}`);
    else if ((old.pathPrefixes ?? []).join('\0') !== (m.pathPrefixes ?? []).join('\0')) out.push(m.pathPrefixes?.length ? `narrowed ${who(m)} to ${m.pathPrefixes.join(', ')}` : `let ${who(m)} write everywhere`);
  }
  for (const m of before.members) if (!after.members.some((x) => x.fingerprint === m.fingerprint)) out.push(`removed ${who(m)}`);
  const revokedBefore = new Set(before.revocations.map((r) => r.fingerprint));
  for (const r of after.revocations) if (!revokedBefore.has(r.fingerprint)) out.push(`removed ${nameOf(r.fingerprint)}`);
  if (before.name !== after.name) out.push(`renamed the folder to "${after.name}"`);
  if (before.ignoreRules.join('\n') !== after.ignoreRules.join('\n')) out.push('changed the ignore rules');
  return out.length ? out : ['no visible change'];
}
