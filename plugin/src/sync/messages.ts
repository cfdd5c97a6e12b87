/**
 * The sync protocol's messages and their strict binary encoding (documented in proto/sync.proto):
 * one kind byte, then the fields in order, with the log's canonical primitives. Decoding
 * refuses anything a peer could send wrong with SyncError('SYNC_MALFORMED') and nothing else;
 * encoding refuses what decoding would refuse, so every encoded message decodes back to itself.
 */
import type { FeedHead, Fingerprint, FolderId, Hash, VersionVector } from '../log';
import { Reader, Writer } from '../log/codec';
import { SyncError } from './errors';

/**
 * 2 adds BlockRequests and BlockReplies (several blocks per message); 3 adds EntryBatch's
 * `more` (the sender's push goes on after this batch). A node speaks the highest version both
 * sides know: it says its own in Hello and sends what a version adds only to a peer whose
 * Hello said that version or more; older messages are still understood.
 */
export const PROTOCOL_VERSION = 3;
/** The oldest version this node still talks to. */
export const MIN_PROTOCOL_VERSION = 1;
/** The host's Links payload limit (4 MiB) less room for the envelope (see envelope.ts). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024 - 64;
/** A block reply's data must fit one message with its header. */
export const MAX_BLOCK_BYTES = MAX_MESSAGE_BYTES - 64;
export const MAX_FOLDERS = 1024;
export const MAX_CHAIN = 4096;
export const MAX_VECTOR = 65_536;
export const MAX_BATCH_ITEMS = 100_000;
export const MAX_CODE_BYTES = 64;
export const MAX_TEXT_BYTES = 1024;
/** Paths one presence message may name: what a person has open, not a listing. */
export const MAX_PRESENCE_PATHS = 256;
/** Blocks one BlockRequests or BlockReplies message may name. */
export const MAX_BATCH_BLOCKS = 1024;
const MAX_PRESENCE_PATH_BYTES = 4096;

export interface VectorEntry {
  readonly author: Fingerprint;
  readonly seq: number;
  readonly head: Hash;
}

export type SyncMessage =
  | { readonly kind: 'hello'; readonly protocolVersion: number; readonly folders: readonly FolderId[] }
  | { readonly kind: 'manifest'; readonly folder: FolderId; readonly head: Hash; readonly chain: readonly Uint8Array[] }
  | { readonly kind: 'vector'; readonly folder: FolderId; readonly entries: readonly VectorEntry[] }
  | {
      readonly kind: 'entries';
      readonly folder: FolderId;
      readonly entries: readonly Uint8Array[];
      readonly checkpoints: readonly Uint8Array[];
      /** Version 3: the sender's push has more batches right after this one (absent: false). */
      readonly more?: boolean;
    }
  | { readonly kind: 'caught-up'; readonly folder: FolderId; readonly vector: readonly VectorEntry[] }
  | { readonly kind: 'block-request'; readonly id: number; readonly hash: Hash; readonly size: number }
  | { readonly kind: 'block-reply'; readonly id: number; readonly hash: Hash; readonly data?: Uint8Array }
  | { readonly kind: 'block-requests'; readonly requests: readonly BlockRequestItem[] }
  | { readonly kind: 'block-replies'; readonly replies: readonly BlockReplyItem[] }
  | { readonly kind: 'refusal'; readonly folder: FolderId; readonly code: string; readonly message: string }
  /** The paths the sender has open now (the whole set each time; empty: none). */
  | { readonly kind: 'presence'; readonly folder: FolderId; readonly paths: readonly string[] };

export interface BlockRequestItem {
  readonly id: number;
  readonly hash: Hash;
  readonly size: number;
}

/** `data` undefined: the sender does not have the block. Decoded data is a view of the received bytes. */
export interface BlockReplyItem {
  readonly id: number;
  readonly hash: Hash;
  readonly data?: Uint8Array;
}

export type SyncKind = SyncMessage['kind'];

const KINDS: readonly SyncKind[] = ['hello', 'manifest', 'vector', 'entries', 'caught-up', 'block-request', 'block-reply', 'refusal', 'presence', 'block-requests', 'block-replies'];
const CODE_OF = new Map(KINDS.map((k, i) => [k, i + 1]));
const BLOCK_KINDS = new Set(['block-request', 'block-reply', 'block-requests', 'block-replies'].map((k) => CODE_OF.get(k as SyncKind)));

/** Block messages go on their own lane (see proto/sync.proto). */
export const isBlockMessage = (m: SyncMessage): boolean => m.kind === 'block-request' || m.kind === 'block-reply' || m.kind === 'block-requests' || m.kind === 'block-replies';
/** The same question on encoded bytes (a transport routes without decoding). */
export const isBlockBytes = (b: Uint8Array): boolean => b.length > 0 && BLOCK_KINDS.has(b[0]);

/** Encoded size of a block reply's fields before its data, at most (id, hash, answer, length). */
const REPLY_HEAD_BYTES = 8 + 32 + 1 + 8;

/** Bytes a BlockReplies message with these blocks takes, at most: for packing replies under MAX_MESSAGE_BYTES. */
export const blockRepliesBytes = (dataBytes: number, count: number): number => 1 + 8 + count * REPLY_HEAD_BYTES + dataBytes;

/**
 * An upper bound of the encoded size when it is cheap to know (block messages carry most of
 * the bytes): the writer then never grows, and its buffer is handed out without a copy.
 */
function exactBound(m: SyncMessage): number | undefined {
  switch (m.kind) {
    case 'block-reply':
      return 1 + REPLY_HEAD_BYTES + (m.data?.length ?? 0);
    case 'block-replies': {
      let n = 0;
      for (const r of m.replies) n += r.data?.length ?? 0;
      return blockRepliesBytes(n, m.replies.length);
    }
    case 'block-request':
      return 1 + 8 + 32 + 8;
    case 'block-requests':
      return 1 + 8 + m.requests.length * (8 + 32 + 8);
    default:
      return undefined;
  }
}

/** A version vector as the wire carries it: authors ascending. */
export function vectorEntries(v: VersionVector): VectorEntry[] {
  return [...v].map(([author, h]) => ({ author, seq: h.seq, head: h.head })).sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
}

export function vectorOf(entries: readonly VectorEntry[]): Map<Fingerprint, FeedHead> {
  return new Map(entries.map((e) => [e.author, { seq: e.seq, head: e.head }]));
}

function bad(message: string): never {
  throw new SyncError('SYNC_ENCODE_INVALID', message);
}

function count(w: Writer, n: number, max: number, what: string): void {
  if (n > max) bad(`${what}: ${n} items, more than ${max}`);
  w.varint(n, what);
}

function writeVector(w: Writer, entries: readonly VectorEntry[]): void {
  count(w, entries.length, MAX_VECTOR, 'vector');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (i > 0 && !(entries[i - 1].author < e.author)) bad('vector authors must be strictly ascending');
    if (e.seq < 1) bad('vector seq must be at least 1');
    w.fingerprint(e.author, 'author').varint(e.seq, 'seq').hash(e.head, 'head');
  }
}

function writeList(w: Writer, items: readonly Uint8Array[], max: number, what: string): void {
  count(w, items.length, max, what);
  for (const b of items) w.bytes(b, MAX_MESSAGE_BYTES, what);
}

export function encodeMessage(m: SyncMessage): Buffer {
  return encodeWithHeadroom(m, 0);
}

/**
 * The encoded message after `headroom` bytes left for the caller (the envelope's folder id),
 * so a block travels into its Links payload with one copy.
 */
export function encodeWithHeadroom(m: SyncMessage, headroom: number): Buffer {
  const code = CODE_OF.get(m.kind);
  if (code === undefined) bad(`unknown kind ${String((m as { kind: unknown }).kind)}`);
  const bound = exactBound(m);
  const w = new Writer(headroom + (bound ?? 256));
  try {
    for (let i = 0; i < headroom; i++) w.u8(0);
    w.u8(code);
    switch (m.kind) {
      case 'hello':
        w.varint(m.protocolVersion, 'protocolVersion');
        count(w, m.folders.length, MAX_FOLDERS, 'folders');
        m.folders.forEach((f, i) => {
          if (i > 0 && !(m.folders[i - 1] < f)) bad('folders must be strictly ascending');
          w.folder(f);
        });
        break;
      case 'manifest':
        w.folder(m.folder).hash(m.head, 'head');
        writeList(w, m.chain, MAX_CHAIN, 'chain');
        break;
      case 'vector':
        w.folder(m.folder);
        writeVector(w, m.entries);
        break;
      case 'entries':
        w.folder(m.folder);
        writeList(w, m.entries, MAX_BATCH_ITEMS, 'entries');
        writeList(w, m.checkpoints, MAX_BATCH_ITEMS, 'checkpoints');
        // Canonical: the flag is there only when set (a version-2 message is the same bytes).
        if (m.more === true) w.varint(1, 'more');
        break;
      case 'caught-up':
        w.folder(m.folder);
        writeVector(w, m.vector);
        break;
      case 'block-request':
        w.varint(m.id, 'id').hash(m.hash, 'hash');
        if (m.size > MAX_BLOCK_BYTES) bad(`block size ${m.size} over ${MAX_BLOCK_BYTES}`);
        w.varint(m.size, 'size');
        break;
      case 'block-reply':
        w.varint(m.id, 'id').hash(m.hash, 'hash');
        if (m.data === undefined) w.u8(0);
        else w.u8(1).bytes(m.data, MAX_BLOCK_BYTES, 'data');
        break;
      case 'block-requests':
        count(w, m.requests.length, MAX_BATCH_BLOCKS, 'requests');
        for (const r of m.requests) {
          w.varint(r.id, 'id').hash(r.hash, 'hash');
          if (r.size > MAX_BLOCK_BYTES) bad(`block size ${r.size} over ${MAX_BLOCK_BYTES}`);
          w.varint(r.size, 'size');
        }
        break;
      case 'block-replies':
        count(w, m.replies.length, MAX_BATCH_BLOCKS, 'replies');
        for (const r of m.replies) {
          w.varint(r.id, 'id').hash(r.hash, 'hash');
          if (r.data === undefined) w.u8(0);
          else w.u8(1).bytes(r.data, MAX_BLOCK_BYTES, 'data');
        }
        break;
      case 'refusal':
        w.folder(m.folder).string(m.code, MAX_CODE_BYTES, 'code').string(m.message, MAX_TEXT_BYTES, 'message');
        break;
      case 'presence':
        w.folder(m.folder);
        count(w, m.paths.length, MAX_PRESENCE_PATHS, 'paths');
        for (const p of m.paths) w.string(p, MAX_PRESENCE_PATH_BYTES, 'path');
        break;
    }
  } catch (e) {
    if (e instanceof SyncError) throw e;
    bad((e as Error).message);
  }
  // Within the bound, the writer's own buffer is the result (nothing else holds it); otherwise a
  // copy of what was used, not a doubled buffer.
  const out = bound !== undefined ? w.view() : w.finish();
  if (out.length - headroom > MAX_MESSAGE_BYTES) bad(`${m.kind} is ${out.length - headroom} bytes, more than ${MAX_MESSAGE_BYTES}`);
  return out;
}

function malformed(message: string, cause?: unknown): never {
  throw new SyncError('SYNC_MALFORMED', message, { cause });
}

function readCount(r: Reader, max: number, what: string): number {
  const n = r.varint(what);
  if (n > max) malformed(`${what}: ${n} items, more than ${max}`);
  // Each item takes at least one byte: a count beyond what is left is a lie, refused before allocating.
  if (n > r.remaining) malformed(`${what}: ${n} items in ${r.remaining} bytes`);
  return n;
}

function readVector(r: Reader): VectorEntry[] {
  const n = readCount(r, MAX_VECTOR, 'vector');
  const out: VectorEntry[] = [];
  for (let i = 0; i < n; i++) {
    const author = r.fingerprint('author');
    if (i > 0 && !(out[i - 1].author < author)) malformed('vector authors not strictly ascending');
    out.push({ author, seq: r.int('seq', 1), head: r.hash('head') });
  }
  return out;
}

function readList(r: Reader, max: number, what: string): Buffer[] {
  const n = readCount(r, max, what);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(MAX_MESSAGE_BYTES, what));
  return out;
}

/**
 * A block's bytes as a view of the message, not a copy: a block is the bulk of what arrives,
 * and nothing writes to received bytes (the envelope's payload is the host's delivery alone).
 */
function dataView(r: Reader): Buffer {
  const len = r.varint('data');
  if (len > MAX_BLOCK_BYTES) malformed(`data: ${len} bytes, more than ${MAX_BLOCK_BYTES}`);
  if (len > r.remaining) malformed(`data: need ${len} bytes, ${r.remaining} left`);
  const out = r.span(r.pos, r.pos + len);
  r.pos += len;
  return out;
}

/** Decodes one message; throws SyncError('SYNC_MALFORMED') and nothing else. */
export function decodeMessage(bytes: Uint8Array): SyncMessage {
  if (!(bytes instanceof Uint8Array)) malformed('not bytes');
  if (bytes.length > MAX_MESSAGE_BYTES) malformed(`${bytes.length} bytes, more than ${MAX_MESSAGE_BYTES}`);
  if (bytes.length === 0) malformed('empty message');
  try {
    const r = new Reader(bytes);
    const kind = KINDS[r.u8('kind') - 1];
    let m: SyncMessage;
    switch (kind) {
      case 'hello': {
        const protocolVersion = r.int('protocolVersion', 0, 0xffff);
        const n = readCount(r, MAX_FOLDERS, 'folders');
        const folders: string[] = [];
        for (let i = 0; i < n; i++) {
          const f = r.folder();
          if (i > 0 && !(folders[i - 1] < f)) malformed('folders not strictly ascending');
          folders.push(f);
        }
        m = { kind, protocolVersion, folders };
        break;
      }
      case 'manifest':
        m = { kind, folder: r.folder(), head: r.hash('head'), chain: readList(r, MAX_CHAIN, 'chain') };
        break;
      case 'vector':
        m = { kind, folder: r.folder(), entries: readVector(r) };
        break;
      case 'entries': {
        const folder = r.folder();
        const entries = readList(r, MAX_BATCH_ITEMS, 'entries');
        const checkpoints = readList(r, MAX_BATCH_ITEMS, 'checkpoints');
        m = r.remaining > 0 && r.int('more', 1, 1) === 1 ? { kind, folder, entries, checkpoints, more: true } : { kind, folder, entries, checkpoints };
        break;
      }
      case 'caught-up':
        m = { kind, folder: r.folder(), vector: readVector(r) };
        break;
      case 'block-request':
        m = { kind, id: r.varint('id'), hash: r.hash('hash'), size: r.int('size', 0, MAX_BLOCK_BYTES) };
        break;
      case 'block-reply': {
        const id = r.varint('id');
        const hash = r.hash('hash');
        const has = r.int('answer', 0, 1);
        m = has === 1 ? { kind, id, hash, data: dataView(r) } : { kind, id, hash };
        break;
      }
      case 'block-requests': {
        const n = readCount(r, MAX_BATCH_BLOCKS, 'requests');
        const requests: BlockRequestItem[] = [];
        for (let i = 0; i < n; i++) requests.push({ id: r.varint('id'), hash: r.hash('hash'), size: r.int('size', 0, MAX_BLOCK_BYTES) });
        m = { kind, requests };
        break;
      }
      case 'block-replies': {
        const n = readCount(r, MAX_BATCH_BLOCKS, 'replies');
        const replies: BlockReplyItem[] = [];
        for (let i = 0; i < n; i++) {
          const id = r.varint('id');
          const hash = r.hash('hash');
          replies.push(r.int('answer', 0, 1) === 1 ? { id, hash, data: dataView(r) } : { id, hash });
        }
        m = { kind, replies };
        break;
      }
      case 'refusal':
        m = { kind, folder: r.folder(), code: r.string(MAX_CODE_BYTES, 'code'), message: r.string(MAX_TEXT_BYTES, 'message') };
        break;
      case 'presence': {
        const folder = r.folder();
        const n = readCount(r, MAX_PRESENCE_PATHS, 'paths');
        const paths: string[] = [];
        for (let i = 0; i < n; i++) paths.push(r.string(MAX_PRESENCE_PATH_BYTES, 'path'));
        m = { kind, folder, paths };
        break;
      }
      default:
        return malformed(`unknown message kind ${bytes[0]}`);
    }
    r.end(kind);
    return m;
  } catch (e) {
    if (e instanceof SyncError) throw e;
    return malformed((e as Error)?.message ?? String(e), e);
  }
}
