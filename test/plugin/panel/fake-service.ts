/**
 * An in-memory FolderService for the panel's tests: the same checks as the real one where the
 * panel shows them (NOT_ADMIN, NOT_A_WRITER, LAST_ADMIN, CONFLICT_GONE, NOT_FOUND), seeded with a
 * small believable world, and a `calls` log so a test can see what the panel asked for.
 */
import { Subject } from 'rxjs';
import { ServiceError } from '../../../plugin/src/folders/errors';
import type {
  ActivityItem, ChatLine, ConflictChoice, ConflictView, DeletedFileView, FileVersion, FileView, FolderService,
  FolderStatus, FolderSummary, Friend, Invitation, ManifestChange, MemberEdit, MemberView, Role, ServiceEvent,
} from '../../../plugin/src/folders/types';

export const SELF = { fingerprint: 'A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1', name: 'Alice' };
export const BOB = { fingerprint: 'B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2', name: 'Bob' };
export const CAROL = { fingerprint: 'C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3', name: 'Carol' };
export const DAVE = { fingerprint: 'D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4', name: 'Dave' };
// Relative to now, so the panel's "3 min ago" reads as it would in use (tests never compare times).
const T0 = Date.now();

interface FakeFile { path: string; size: number; state: FileView['state']; author: string; atMs: number; text?: string; progressBytes?: number; openBy?: string[] }
interface FakeFolder {
  id: string; name: string; root: string; chatRoom: string;
  status: FolderStatus;
  members: MemberView[];
  manifest: ManifestChange[];
  files: FakeFile[];
  activity: ActivityItem[];
  versions: Map<string, (FileVersion & { text?: string })[]>;
  deleted: DeletedFileView[];
  conflicts: (ConflictView & { texts: Record<string, string> })[];
  chat: ChatLine[];
}

const nameOf = (fp: string) => [SELF, BOB, CAROL, DAVE].find((p) => p.fingerprint === fp)?.name ?? fp.slice(-8);
const status = (s: Partial<FolderStatus> = {}): FolderStatus => ({
  state: 'in-sync', behindEntries: 0, behindEntriesLastKnown: false, behindFiles: 0, behindBytes: 0, rateBytesPerS: 0, rateHistory: [], conflicts: 0, peers: [], ...s,
});

export class FakeFolderService implements FolderService {
  readonly events = new Subject<ServiceEvent>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  friendList: Friend[] = [
    { ...BOB, online: true },
    { ...CAROL, online: false },
    { ...DAVE, online: true },
  ];
  invites: Invitation[] = [];
  readonly store = new Map<string, FakeFolder>();
  /** Makes the next call of that method fail with this error (then it is forgotten). */
  readonly failNext = new Map<string, ServiceError>();
  private seq = 0;

  private log(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const err = this.failNext.get(method);
    if (err) {
      this.failNext.delete(method);
      throw err;
    }
  }

  private get(id: string): FakeFolder {
    const f = this.store.get(id);
    if (!f) throw new ServiceError('NOT_FOUND', `no folder ${id} here`);
    return f;
  }

  private myRole(f: FakeFolder): Role {
    return f.members.find((m) => m.self)!.role;
  }

  private summary(f: FakeFolder): FolderSummary {
    const me = f.members.find((m) => m.self)!;
    return { id: f.id, name: f.name, root: f.root, role: me.role, ...(me.pathPrefixes ? { pathPrefixes: me.pathPrefixes } : {}), chatRoom: f.chatRoom, status: f.status };
  }

  private emit(e: ServiceEvent): void {
    this.events.next(e);
  }

  /** Adds a folder; returns its id. */
  addFolder(input: { id: string; name: string; role?: Role; status?: Partial<FolderStatus>; files?: FakeFile[] }): FakeFolder {
    const role = input.role ?? 'admin';
    const members: MemberView[] = [{ ...SELF, role, self: true, online: true, state: 'active' }];
    if (role !== 'admin') members.push({ ...BOB, role: 'admin', self: false, online: true, state: 'active' });
    const f: FakeFolder = {
      id: input.id, name: input.name, root: `/home/alice/${input.name}`, chatRoom: `kinfolder:${input.id}`,
      status: status(input.status), members,
      manifest: [{ version: 1, hash: 'm1' + input.id, author: members[members.length - 1].fingerprint, authorName: members[members.length - 1].name, createdAtMs: T0 - 86_400_000, summary: [`created the folder ${input.name}`] }],
      files: input.files ?? [], activity: [], versions: new Map(), deleted: [], conflicts: [], chat: [],
    };
    this.store.set(f.id, f);
    return f;
  }

  /** A world for screenshots and UI tests: two folders (one admin, one reader), an invitation, a conflict, history and chat. */
  static seeded(): FakeFolderService {
    const s = new FakeFolderService();
    const photos = s.addFolder({
      id: 'f-photos', name: 'Holiday photos',
      status: { state: 'transferring', behindEntries: 12, behindFiles: 3, behindBytes: 48_000_000, rateBytesPerS: 2_400_000, rateHistory: Array.from({ length: 60 }, (_, i) => 1_000_000 + Math.round(1_400_000 * Math.abs(Math.sin(i / 6)))), conflicts: 1 },
      files: [
        { path: 'docs', size: 0, state: 'synced', author: BOB.fingerprint, atMs: T0 - 7_200_000 },
        { path: 'docs/plan.txt', size: 58, state: 'conflict', author: BOB.fingerprint, atMs: T0 - 3_600_000, text: 'day 1: beach\nday 2: museum\nday 3: hike\n' },
        { path: 'docs/notes.md', size: 1200, state: 'in-use', author: SELF.fingerprint, atMs: T0 - 600_000, openBy: [BOB.fingerprint], text: '# Notes\n' },
        { path: 'beach.jpg', size: 3_400_000, state: 'synced', author: SELF.fingerprint, atMs: T0 - 86_000_000 },
        { path: 'sunset.jpg', size: 5_100_000, state: 'pending', progressBytes: 2_000_000, author: BOB.fingerprint, atMs: T0 - 60_000 },
        { path: 'thumbs.db', size: 20_000, state: 'ignored', author: SELF.fingerprint, atMs: T0 - 90_000_000 },
      ],
    });
    photos.members.push(
      { ...BOB, role: 'writer', self: false, online: true, state: 'active', pathPrefixes: ['docs/'] },
      { ...CAROL, role: 'reader', self: false, online: false, state: 'invited' },
    );
    photos.status = { ...photos.status, peers: [
      { ...BOB, online: true, state: 'ahead', theyLackEntries: 0, weLackEntries: 12, vector: 'fresh', openPaths: ['docs/notes.md'] },
      { ...CAROL, online: false, state: 'not-joined', theyLackEntries: 40, weLackEntries: 0, vector: 'last-known', openPaths: [] },
    ] };
    photos.manifest.push({ version: 2, hash: 'm2', author: SELF.fingerprint, authorName: SELF.name, createdAtMs: T0 - 80_000_000, summary: ['added Bob as writer (docs/)', 'added Carol as reader'] });
    photos.activity = [
      { entry: 'e3', author: BOB.fingerprint, authorName: BOB.name, op: 'put', path: 'sunset.jpg', atMs: T0 - 60_000 },
      { entry: 'e2', author: BOB.fingerprint, authorName: BOB.name, op: 'put', path: 'docs/plan.txt', atMs: T0 - 3_600_000 },
      { entry: 'e1', author: SELF.fingerprint, authorName: SELF.name, op: 'delete', path: 'old-draft.txt', atMs: T0 - 5_000_000 },
    ];
    photos.versions.set('docs/notes.md', [
      { version: 'current', atMs: T0 - 600_000, size: 1200, author: SELF.fingerprint, authorName: SELF.name },
      { version: 'v-notes-1', atMs: T0 - 9_000_000, size: 800, author: BOB.fingerprint, authorName: BOB.name, text: '# Old notes\n' },
    ]);
    photos.deleted = [{ path: 'old-draft.txt', version: 'v-draft-1', deletedAtMs: T0 - 5_000_000, size: 321 }];
    photos.conflicts = [{
      path: 'docs/plan.txt',
      versions: [
        { hash: 'h-bob', author: BOB.fingerprint, authorName: BOB.name, atMs: T0 - 3_600_000, size: 42, diskPath: 'docs/plan.txt', winner: true },
        { hash: 'h-alice', author: SELF.fingerprint, authorName: SELF.name, atMs: T0 - 3_500_000, size: 44, diskPath: 'docs/plan.sync-conflict-20261120-083000-A1A1A1A1.txt', winner: false },
      ],
      texts: { 'h-bob': 'day 1: beach\nday 2: museum\nday 3: hike\n', 'h-alice': 'day 1: beach\nday 2: old town\nday 3: hike\nday 4: rest\n' },
    }];
    photos.chat = [
      { id: 'c1', from: BOB.fingerprint, fromName: BOB.name, text: 'Uploaded the sunset pictures!', atMs: T0 - 50_000, outgoing: false },
    ];
    s.addFolder({ id: 'f-recipes', name: 'Recipes', role: 'reader', status: { state: 'in-sync', peers: [{ ...BOB, online: true, state: 'in-sync', theyLackEntries: 0, weLackEntries: 0, vector: 'fresh', openPaths: [] }] },
      files: [{ path: 'soup.md', size: 900, state: 'synced', author: BOB.fingerprint, atMs: T0 - 400_000_000, text: 'Soup\n' }] });
    s.invites = [{ folder: 'f-music', name: 'Band rehearsals', from: { ...DAVE }, role: 'writer', members: 3, receivedAtMs: T0 - 1_000_000 }];
    return s;
  }

  async self() { this.log('self'); return SELF; }
  friends() { this.log('friends'); return this.friendList; }
  async folders() { this.log('folders'); return [...this.store.values()].map((f) => this.summary(f)); }
  async folder(id: string) { this.log('folder', id); return this.summary(this.get(id)); }

  async createFolder(input: { name: string; root: string }) {
    this.log('createFolder', input);
    if (!input.root.startsWith('/')) throw new ServiceError('BAD_INPUT', `the folder's path must be absolute: ${input.root}`);
    if ([...this.store.values()].some((f) => f.root === input.root)) throw new ServiceError('ALREADY_EXISTS', `a folder already lives at ${input.root}`);
    const f = this.addFolder({ id: `f-${++this.seq}`, name: input.name });
    f.root = input.root;
    this.emit({ type: 'folders' });
    return this.summary(f);
  }

  async leaveFolder(id: string) {
    this.log('leaveFolder', id);
    const f = this.get(id);
    if (this.myRole(f) === 'admin' && f.members.filter((m) => m.role === 'admin' && m.state !== 'revoked').length === 1) {
      throw new ServiceError('LAST_ADMIN', 'you are the last admin of this folder: make another member admin before you leave');
    }
    this.store.delete(id);
    this.emit({ type: 'folders' });
  }

  invitations() { this.log('invitations'); return this.invites; }

  async acceptInvitation(folder: string, root: string) {
    this.log('acceptInvitation', folder, root);
    const inv = this.invites.find((i) => i.folder === folder);
    if (!inv) throw new ServiceError('NOT_FOUND', `no invitation to ${folder}`);
    this.invites = this.invites.filter((i) => i !== inv);
    const f = this.addFolder({ id: folder, name: inv.name, role: inv.role, status: { state: 'behind', behindFiles: 10, behindBytes: 1_000_000, behindEntries: 10 } });
    f.root = root;
    this.emit({ type: 'invitations' });
    this.emit({ type: 'folders' });
    return this.summary(f);
  }

  async declineInvitation(folder: string) {
    this.log('declineInvitation', folder);
    if (!this.invites.some((i) => i.folder === folder)) throw new ServiceError('NOT_FOUND', `no invitation to ${folder}`);
    this.invites = this.invites.filter((i) => i.folder !== folder);
    this.emit({ type: 'invitations' });
  }

  async members(folder: string) { this.log('members', folder); return this.get(folder).members; }
  async manifestHistory(folder: string) { this.log('manifestHistory', folder); return [...this.get(folder).manifest].reverse(); }

  async editMember(folder: string, edit: MemberEdit) {
    this.log('editMember', folder, edit);
    const f = this.get(folder);
    if (this.myRole(f) !== 'admin') throw new ServiceError('NOT_ADMIN', 'only an admin of this folder can change its members');
    const existing = f.members.find((m) => m.fingerprint === edit.fingerprint);
    const summary: string[] = [];
    if (edit.kind === 'invite') {
      if (existing) throw new ServiceError('ALREADY_EXISTS', `${existing.name} is a member already`);
      const friend = this.friendList.find((p) => p.fingerprint === edit.fingerprint);
      if (!friend) throw new ServiceError('NOT_FOUND', 'that is not one of your friends');
      f.members.push({ fingerprint: friend.fingerprint, name: friend.name, role: edit.role, ...(edit.pathPrefixes ? { pathPrefixes: edit.pathPrefixes } : {}), self: false, online: friend.online, state: 'invited' });
      summary.push(`added ${friend.name} as ${edit.role}`);
    } else {
      if (!existing) throw new ServiceError('NOT_FOUND', 'no such member');
      const i = f.members.indexOf(existing);
      const admins = f.members.filter((m) => m.role === 'admin').length;
      if (existing.role === 'admin' && admins === 1 && (edit.kind === 'remove' || (edit.kind === 'role' && edit.role !== 'admin'))) {
        throw new ServiceError('LAST_ADMIN', 'the folder would be left without an admin');
      }
      if (edit.kind === 'remove') {
        f.members.splice(i, 1);
        summary.push(`removed ${existing.name}`);
      } else if (edit.kind === 'role') {
        f.members[i] = { ...existing, role: edit.role };
        summary.push(`made ${existing.name} ${edit.role}`);
      } else {
        f.members[i] = { ...existing, pathPrefixes: edit.pathPrefixes };
        summary.push(`narrowed ${existing.name} to ${edit.pathPrefixes.join(', ')}`);
      }
    }
    const version = f.manifest.length + 1;
    f.manifest.push({ version, hash: `m${version}`, author: SELF.fingerprint, authorName: SELF.name, createdAtMs: T0 + version * 1000, summary });
    this.emit({ type: 'members', folder });
    return f.members;
  }

  async files(folder: string, dir: string): Promise<FileView[]> {
    this.log('files', folder, dir);
    const f = this.get(folder);
    const prefix = dir === '' ? '' : dir.replace(/\/$/, '') + '/';
    if (prefix && !f.files.some((x) => x.path === dir.replace(/\/$/, ''))) throw new ServiceError('NOT_FOUND', `no directory ${dir}`);
    return f.files
      .filter((x) => x.path.startsWith(prefix) && !x.path.slice(prefix.length).includes('/'))
      .map((x) => ({
        path: x.path, name: x.path.slice(prefix.length),
        type: f.files.some((y) => y.path.startsWith(x.path + '/')) ? 'dir' : 'file',
        size: x.size, state: x.state, author: x.author, authorName: nameOf(x.author), changedAtMs: x.atMs,
        ...(x.progressBytes !== undefined ? { progressBytes: x.progressBytes } : {}),
        ...(x.openBy ? { openBy: x.openBy } : {}),
      }));
  }

  async activity(folder: string, limit: number) { this.log('activity', folder, limit); return this.get(folder).activity.slice(0, limit); }
  async versions(folder: string, path: string) {
    this.log('versions', folder, path);
    return (this.get(folder).versions.get(path) ?? []).map(({ text: _t, ...v }) => v);
  }

  private mustWrite(f: FakeFolder): void {
    if (this.myRole(f) === 'reader') throw new ServiceError('NOT_A_WRITER', 'you are a reader in this folder: only writers and admins can change files');
  }

  async restore(folder: string, path: string, version: string) {
    this.log('restore', folder, path, version);
    const f = this.get(folder);
    this.mustWrite(f);
    const del = f.deleted.find((d) => d.path === path && d.version === version);
    if (del) {
      f.deleted = f.deleted.filter((d) => d !== del);
      f.files.push({ path, size: del.size, state: 'synced', author: SELF.fingerprint, atMs: T0 });
    } else if (!(f.versions.get(path) ?? []).some((v) => v.version === version)) {
      throw new ServiceError('NOT_FOUND', `no version ${version} of ${path}`);
    }
    const item: ActivityItem = { entry: `e-restore-${++this.seq}`, author: SELF.fingerprint, authorName: SELF.name, op: 'put', path, atMs: T0 + this.seq };
    f.activity.unshift(item);
    this.emit({ type: 'files', folder, paths: [path] });
    this.emit({ type: 'activity', folder, items: [item] });
  }

  async deleted(folder: string) { this.log('deleted', folder); return this.get(folder).deleted; }

  async readFile(folder: string, path: string, version?: string, maxBytes = 1 << 20) {
    this.log('readFile', folder, path, version, maxBytes);
    const f = this.get(folder);
    let text: string | undefined;
    if (version) {
      text = f.conflicts.find((c) => c.path === path)?.texts[version] ?? f.versions.get(path)?.find((v) => v.version === version)?.text;
    } else {
      text = f.files.find((x) => x.path === path)?.text;
    }
    if (text === undefined) throw new ServiceError('NOT_FOUND', `no readable version of ${path}`);
    return Buffer.from(text).subarray(0, maxBytes);
  }

  async conflicts(folder: string) { this.log('conflicts', folder); return this.get(folder).conflicts.map(({ texts: _t, ...c }) => c); }

  async resolveConflict(folder: string, path: string, choice: ConflictChoice) {
    this.log('resolveConflict', folder, path, choice);
    const f = this.get(folder);
    this.mustWrite(f);
    const c = f.conflicts.find((x) => x.path === path);
    if (!c) throw new ServiceError('CONFLICT_GONE', `the conflict at ${path} was settled meanwhile`);
    if ('keep' in choice && !c.versions.some((v) => v.hash === choice.keep)) throw new ServiceError('NOT_FOUND', `no version ${choice.keep} in this conflict`);
    f.conflicts = f.conflicts.filter((x) => x !== c);
    f.status = { ...f.status, conflicts: f.conflicts.length };
    const file = f.files.find((x) => x.path === path);
    if (file) file.state = 'synced';
    this.emit({ type: 'conflicts', folder });
    this.emit({ type: 'files', folder, paths: [path] });
    this.emit({ type: 'status', folder, status: f.status });
  }

  async setOpen(folder: string, path: string, open: boolean) { this.log('setOpen', folder, path, open); this.get(folder); }

  async chatHistory(folder: string, limit: number) { this.log('chatHistory', folder, limit); return this.get(folder).chat.slice(-limit); }

  async sendChat(folder: string, text: string) {
    this.log('sendChat', folder, text);
    const f = this.get(folder);
    const line: ChatLine = { id: `c-${++this.seq}`, from: SELF.fingerprint, fromName: SELF.name, text, atMs: T0 + this.seq * 1000, outgoing: true };
    f.chat.push(line);
    this.emit({ type: 'chat', folder, line });
    return line;
  }

  /** A peer's chat line arriving (what the host's Chat stream would bring). */
  receiveChat(folder: string, from: { fingerprint: string; name: string }, text: string): ChatLine {
    const line: ChatLine = { id: `c-${++this.seq}`, from: from.fingerprint, fromName: from.name, text, atMs: T0 + this.seq * 1000, outgoing: false };
    this.get(folder).chat.push(line);
    this.emit({ type: 'chat', folder, line });
    return line;
  }

  /** A transfer moving on: the file's progress, and the files event a sidecar sends for it. */
  setProgress(folder: string, path: string, progressBytes: number): void {
    const file = this.get(folder).files.find((x) => x.path === path);
    if (!file) throw new Error(`no file ${path} in ${folder}`);
    file.progressBytes = progressBytes;
    this.emit({ type: 'files', folder, paths: [path] });
  }

  setStatus(folder: string, s: Partial<FolderStatus>): void {
    const f = this.get(folder);
    f.status = { ...f.status, ...s };
    this.emit({ type: 'status', folder, status: f.status });
  }
}
