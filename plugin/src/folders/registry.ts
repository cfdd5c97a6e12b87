/**
 * What the sidecar remembers outside the log: the folders it holds (id, where on disk, which
 * members it has seen joined) and the invitations it received, in `<dataDir>/folders.json`.
 * Written whole to a temp file, fsynced and renamed: a crash leaves the old file or the new.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ServiceError } from './errors';

export interface FolderRecord {
  readonly id: string;
  readonly root: string;
  readonly addedAtMs: number;
  /** Members we have synced with at least once (the panel shows the others as invited). */
  readonly joined: readonly string[];
}

export interface InvitationRecord {
  readonly folder: string;
  /** The signed manifest versions as the inviting member sent them, base64. */
  readonly chain: readonly string[];
  readonly fromPeer: string;
  /** The verified head's name and members (what the panel shows before joining). */
  readonly name: string;
  readonly members: readonly { readonly fingerprint: string; readonly role: 'admin' | 'writer' | 'reader'; readonly pathPrefixes?: readonly string[] }[];
  readonly receivedAtMs: number;
  readonly declined: boolean;
}

interface FileShape {
  readonly version: 1;
  readonly folders: FolderRecord[];
  readonly invitations: InvitationRecord[];
}

export class Registry {
  private folders = new Map<string, FolderRecord>();
  private invitations = new Map<string, InvitationRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(dataDir: string): Promise<Registry> {
    const r = new Registry(path.join(dataDir, 'folders.json'));
    let text: string | undefined;
    try {
      text = await fsp.readFile(r.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      let parsed: FileShape;
      try {
        parsed = JSON.parse(text) as FileShape;
        if (parsed.version !== 1 || !Array.isArray(parsed.folders) || !Array.isArray(parsed.invitations)) throw new Error('unknown layout');
      } catch (e) {
        throw new ServiceError('INTERNAL', `${r.file} is unreadable (${(e as Error).message}); move it aside to start without its folders`);
      }
      for (const f of parsed.folders) r.folders.set(f.id, { ...f, joined: f.joined ?? [] });
      for (const i of parsed.invitations) r.invitations.set(i.folder, i);
    }
    return r;
  }

  folderList(): FolderRecord[] {
    return [...this.folders.values()];
  }

  folder(id: string): FolderRecord | undefined {
    return this.folders.get(id);
  }

  invitationList(): InvitationRecord[] {
    return [...this.invitations.values()];
  }

  invitation(folder: string): InvitationRecord | undefined {
    return this.invitations.get(folder);
  }

  putFolder(f: FolderRecord): Promise<void> {
    this.folders.set(f.id, f);
    return this.save();
  }

  removeFolder(id: string): Promise<void> {
    this.folders.delete(id);
    return this.save();
  }

  /** Notes that `member` synced with us in `folder`; true when that is news. */
  markJoined(folder: string, member: string): boolean {
    const f = this.folders.get(folder);
    if (!f || f.joined.includes(member)) return false;
    this.folders.set(folder, { ...f, joined: [...f.joined, member].sort() });
    void this.save().catch(() => undefined);
    return true;
  }

  putInvitation(i: InvitationRecord): Promise<void> {
    this.invitations.set(i.folder, i);
    return this.save();
  }

  removeInvitation(folder: string): Promise<void> {
    this.invitations.delete(folder);
    return this.save();
  }

  /** Writes are queued: each writes the state as it is when it runs, so the last one wins. */
  private save(): Promise<void> {
    const run = this.writing.then(async () => {
      const body: FileShape = { version: 1, folders: this.folderList(), invitations: this.invitationList() };
      const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(body, null, 1));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.file);
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}
