/**
 * What the sidecar's folder service shows and takes: the surface the panel's API serves.
 * Plain JSON-able objects (fingerprints as the host spells them, times in ms since the epoch),
 * so the panel can send them as they are.
 */
import type { Observable } from 'rxjs';
import type { Role } from '../acl';

export type { Role };

/** A friend as the host knows them. */
export interface Friend {
  readonly fingerprint: string;
  readonly name: string;
  readonly online: boolean;
}

/**
 * How far a folder is from its peers:
 * - `in-sync`: caught up with the majority of the writers that have been seen (the design's rule);
 * - `behind`: entries or blocks still to come (`behindEntries`, `behindBytes`);
 * - `transferring`: blocks are moving now (`rateBytesPerS`);
 * - `checking`: caught up as far as we know, but an online member has not said what it has
 *   since its link came up (after a restart, until each peer's vector arrives);
 * - `offline`: no other member is online, or none of those online answers (its Kinfolder is not running);
 * - `scanning`: the first scan of the local folder runs (`scan.done` of `scan.total` files).
 */
export type FolderState = 'in-sync' | 'behind' | 'checking' | 'transferring' | 'offline' | 'scanning';

export interface PeerStatus {
  readonly fingerprint: string;
  readonly name: string;
  readonly online: boolean;
  /**
   * The peer's sync state with us in this folder. `checking`: online, not yet said what it has
   * since its link came up; `no-answer`: online, and still silent after PEER_ANSWER_MS (its
   * host is up but its Kinfolder does not run, or is too busy to answer).
   */
  readonly state: 'in-sync' | 'behind' | 'ahead' | 'checking' | 'no-answer' | 'offline' | 'not-joined' | 'declined';
  /** Entries we have that the peer lacks (by its last vector), and it has that we lack. */
  readonly theyLackEntries: number;
  readonly weLackEntries: number;
  /**
   * Where those counts come from: the vector the peer said in this link's life (`fresh`), the
   * last one it said before (`last-known`: it may have more by now), or none (both counts 0).
   */
  readonly vector: 'fresh' | 'last-known' | 'none';
  /** Paths the peer said it has open. */
  readonly openPaths: readonly string[];
}

export interface FolderStatus {
  readonly state: FolderState;
  /** Entries some peer has that we lack, by the best vectors we know of each peer. */
  readonly behindEntries: number;
  /** Some peer's vector is its last known one, not one said in this link's life: `behindEntries` is a lower bound. */
  readonly behindEntriesLastKnown: boolean;
  readonly behindFiles: number;
  readonly behindBytes: number;
  /** Bytes per second received over the last few seconds. */
  readonly rateBytesPerS: number;
  /** The last minute of receive rates, one sample a second, oldest first (for the small graph). */
  readonly rateHistory: readonly number[];
  readonly conflicts: number;
  readonly scan?: { readonly done: number; readonly total: number };
  readonly peers: readonly PeerStatus[];
}

export interface FolderSummary {
  readonly id: string;
  readonly name: string;
  /** Where the folder lives on this node's disk. */
  readonly root: string;
  /** This node's role in the current manifest. */
  readonly role: Role;
  readonly pathPrefixes?: readonly string[];
  /** The folder's chat room at the host. */
  readonly chatRoom: string;
  readonly status: FolderStatus;
}

export interface Invitation {
  readonly folder: string;
  readonly name: string;
  /** The admin who signed the manifest that made us a member. */
  readonly from: { readonly fingerprint: string; readonly name: string };
  readonly role: Role;
  readonly pathPrefixes?: readonly string[];
  readonly members: number;
  readonly receivedAtMs: number;
}

export interface MemberView {
  readonly fingerprint: string;
  readonly name: string;
  readonly role: Role;
  readonly pathPrefixes?: readonly string[];
  readonly self: boolean;
  readonly online: boolean;
  /** `invited`: in the manifest, never synced with us yet; `revoked`: kept only so their old entries stay valid. */
  readonly state: 'active' | 'invited' | 'declined' | 'revoked';
}

export interface ManifestChange {
  readonly version: number;
  readonly hash: string;
  readonly author: string;
  readonly authorName: string;
  readonly createdAtMs: number;
  /** What changed from the previous version, in words ("added Bob as writer"). */
  readonly summary: readonly string[];
}

export type FileState = 'synced' | 'pending' | 'conflict' | 'in-use' | 'ignored' | 'local-only';

export interface FileView {
  readonly path: string;
  readonly name: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly size: number;
  readonly state: FileState;
  /** Bytes of this file already here, while `pending`. */
  readonly progressBytes?: number;
  readonly author?: string;
  readonly authorName?: string;
  readonly changedAtMs?: number;
  /** Members who have this file open. */
  readonly openBy?: readonly string[];
}

export interface ActivityItem {
  readonly entry: string;
  readonly author: string;
  readonly authorName: string;
  readonly op: 'put' | 'delete' | 'move';
  readonly path: string;
  readonly from?: string;
  readonly atMs: number;
}

export interface FileVersion {
  /** `current` for what the folder holds now; otherwise the kept version's id (for `restore`). */
  readonly version: string;
  readonly atMs: number;
  readonly size: number;
  readonly author?: string;
  readonly authorName?: string;
}

export interface DeletedFileView {
  readonly path: string;
  readonly version: string;
  readonly deletedAtMs: number;
  readonly size: number;
}

export interface ConflictVersionView {
  readonly hash: string;
  readonly author: string;
  readonly authorName: string;
  readonly atMs: number;
  readonly size: number;
  /** Where this version stands on disk: the path itself for the winner, the conflict copy for the others. */
  readonly diskPath: string;
  readonly winner: boolean;
}

export interface ConflictView {
  readonly path: string;
  readonly versions: readonly ConflictVersionView[];
}

/** How a conflict is settled: keep one version (its hash), or keep both under their names. */
export type ConflictChoice = { readonly keep: string } | { readonly keepBoth: true };

export type MemberEdit =
  | { readonly kind: 'invite'; readonly fingerprint: string; readonly role: Role; readonly pathPrefixes?: readonly string[] }
  | { readonly kind: 'role'; readonly fingerprint: string; readonly role: Role }
  | { readonly kind: 'narrow'; readonly fingerprint: string; readonly pathPrefixes: readonly string[] }
  | { readonly kind: 'remove'; readonly fingerprint: string };

export interface ChatLine {
  readonly id: string;
  readonly from: string;
  readonly fromName: string;
  readonly text: string;
  readonly atMs: number;
  readonly outgoing: boolean;
}

/** Pushed to the panel as they happen (the panel refetches what an event names). */
export type ServiceEvent =
  | { readonly type: 'folders' }
  | { readonly type: 'invitations' }
  | { readonly type: 'friends' }
  | { readonly type: 'status'; readonly folder: string; readonly status: FolderStatus }
  | { readonly type: 'files'; readonly folder: string; readonly paths: readonly string[] }
  | { readonly type: 'members'; readonly folder: string }
  | { readonly type: 'conflicts'; readonly folder: string }
  | { readonly type: 'activity'; readonly folder: string; readonly items: readonly ActivityItem[] }
  | { readonly type: 'chat'; readonly folder: string; readonly line: ChatLine }
  | { readonly type: 'problem'; readonly folder?: string; readonly code: string; readonly message: string };

/**
 * The folder service as the panel uses it. Every method checks the caller's rights against the
 * folder's manifest (a panel hiding a button is not the check) and fails with a ServiceError
 * whose code says why: NOT_FOUND, NOT_ADMIN, NOT_A_WRITER, LAST_ADMIN, BAD_INPUT, CONFLICT_GONE,
 * HOST_UNAVAILABLE, …
 */
export interface FolderService {
  readonly events: Observable<ServiceEvent>;
  self(): Promise<{ readonly fingerprint: string; readonly name: string }>;
  friends(): readonly Friend[];

  folders(): Promise<FolderSummary[]>;
  folder(id: string): Promise<FolderSummary>;
  /** Makes a new folder of `root` (created if missing) with this node as its only admin. */
  createFolder(input: { readonly name: string; readonly root: string }, signal?: AbortSignal): Promise<FolderSummary>;
  /** Stops syncing the folder here and forgets its log; the files stay on disk. The last admin cannot leave. */
  leaveFolder(id: string): Promise<void>;

  invitations(): Invitation[];
  /** Joins the folder into `root` (created if missing; must be empty or absent). */
  acceptInvitation(folder: string, root: string, signal?: AbortSignal): Promise<FolderSummary>;
  declineInvitation(folder: string): Promise<void>;

  members(folder: string): Promise<MemberView[]>;
  manifestHistory(folder: string): Promise<ManifestChange[]>;
  editMember(folder: string, edit: MemberEdit, signal?: AbortSignal): Promise<MemberView[]>;

  /** The direct children of `dir` ('' for the root). */
  files(folder: string, dir: string): Promise<FileView[]>;
  activity(folder: string, limit: number): Promise<ActivityItem[]>;
  versions(folder: string, path: string): Promise<FileVersion[]>;
  restore(folder: string, path: string, version: string, signal?: AbortSignal): Promise<void>;
  deleted(folder: string): Promise<DeletedFileView[]>;
  /** A file's bytes as the folder holds them now, or a kept or conflicting version (by hash or version id); at most `maxBytes`. */
  readFile(folder: string, path: string, version?: string, maxBytes?: number): Promise<Buffer>;

  conflicts(folder: string): Promise<ConflictView[]>;
  resolveConflict(folder: string, path: string, choice: ConflictChoice, signal?: AbortSignal): Promise<void>;

  /** Tells the folder's members that this node has `path` open (or no longer has). */
  setOpen(folder: string, path: string, open: boolean): Promise<void>;

  chatHistory(folder: string, limit: number): Promise<ChatLine[]>;
  sendChat(folder: string, text: string): Promise<ChatLine>;
}
