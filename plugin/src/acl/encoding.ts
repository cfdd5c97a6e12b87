/**
 * Canonical binary encoding of manifest versions and signed manifests (layout in
 * PROTOCOL.md). A version's hash is the SHA-256 of its unsigned bytes, so two signatures
 * over the same content name the same version.
 */
import { Reader, Writer, compareUtf8 } from '../log/codec';
import { FORMAT_VERSION, MAX_SIGNATURE_BYTES, sha256Hex } from '../log/encoding';
import { DecodeError, LogError } from '../log/errors';
import type { Hash } from '../log/types';
import { AclError } from './errors';
import type { EarlierGrant, ManifestVersion, Member, Revocation, Role, SignedManifest } from './types';

export const KIND_MANIFEST = 0x03;
export const KIND_SIGNED_MANIFEST = 0x04;
export const MANIFEST_SIGNING_PREFIX = Buffer.from('KINFOLDER-MANIFEST-V1\0', 'ascii');

export const MAX_NAME_BYTES = 1024;
export const MAX_MEMBERS = 10_000;
export const MAX_KEY_BYTES = 64 * 1024;
export const MAX_PREFIXES = 256;
export const MAX_PREFIX_BYTES = 4096;
export const MAX_IGNORE_RULES = 4096;
export const MAX_IGNORE_RULE_BYTES = 4096;
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Earlier grants kept per member: past this many narrowings an admin revokes instead. */
export const MAX_EARLIER_GRANTS = 256;

const ROLES: Record<Role, number> = { admin: 1, writer: 2, reader: 3 };
const ROLE_NAMES: (Role | undefined)[] = [undefined, 'admin', 'writer', 'reader'];

const scratch = new Writer(64 * 1024);

function invalid(message: string): never {
  throw new AclError('ACL_INVALID_MANIFEST', message);
}

function writeManifest(w: Writer, m: ManifestVersion): void {
  if (!Number.isSafeInteger(m.version) || m.version < 1) invalid(`version ${m.version} must be >= 1`);
  if ((m.version === 1) !== (m.prev === null)) invalid('prev is null exactly for version 1');
  if (m.members.length > MAX_MEMBERS) invalid(`more than ${MAX_MEMBERS} members`);
  w.u8(KIND_MANIFEST).u8(FORMAT_VERSION).folder(m.folder).string(m.name, MAX_NAME_BYTES, 'name').varint(m.version, 'version');
  if (m.prev !== null) w.hash(m.prev, 'prev');
  w.fingerprint(m.author, 'author').varint(m.createdAtMs, 'createdAtMs').varint(m.members.length, 'member count');
  m.members.forEach((mem: Member, i) => {
    if (i > 0 && !(m.members[i - 1].fingerprint < mem.fingerprint)) invalid('members must be sorted by fingerprint and unique');
    w.fingerprint(mem.fingerprint, 'member').string(mem.name, MAX_NAME_BYTES, 'member name').string(mem.publicKeyArmored, MAX_KEY_BYTES, 'public key');
    writeGrant(w, mem);
  });
  w.varint(m.revocations.length, 'revocation count');
  m.revocations.forEach((r: Revocation, i) => {
    if (i > 0 && !(m.revocations[i - 1].fingerprint < r.fingerprint)) invalid('revocations must be sorted by fingerprint and unique');
    w.fingerprint(r.fingerprint, 'revoked member').varint(r.lastValidSeq, 'lastValidSeq');
  });
  if (m.ignoreRules.length > MAX_IGNORE_RULES) invalid(`more than ${MAX_IGNORE_RULES} ignore rules`);
  w.varint(m.ignoreRules.length, 'ignore rule count');
  for (const rule of m.ignoreRules) w.string(rule, MAX_IGNORE_RULE_BYTES, 'ignore rule');
  // A trailing section present only when some member has earlier grants, so versions
  // without any keep the bytes (and hashes) they had before the section existed.
  const withEarlier = m.members.filter((mem) => (mem.earlier ?? []).length > 0);
  if (withEarlier.length === 0) return;
  w.varint(withEarlier.length, 'earlier-grant member count');
  for (const mem of withEarlier) {
    const list = mem.earlier as readonly EarlierGrant[];
    if (list.length > MAX_EARLIER_GRANTS) invalid(`more than ${MAX_EARLIER_GRANTS} earlier grants`);
    w.fingerprint(mem.fingerprint, 'member with earlier grants').varint(list.length, 'earlier grant count');
    list.forEach((e, i) => {
      if (i > 0 && e.untilSeq < list[i - 1].untilSeq) invalid('earlier grants must be ordered by untilSeq');
      w.varint(e.untilSeq, 'untilSeq');
      writeGrant(w, e);
    });
  }
}

/** Role and prefixes, as in a member row. */
function writeGrant(w: Writer, g: { readonly role: Role; readonly pathPrefixes?: readonly string[] }): void {
  const role = ROLES[g.role];
  if (role === undefined) invalid(`unknown role ${String(g.role)}`);
  const prefixes = g.pathPrefixes ?? [];
  if (prefixes.length > 0 && g.role !== 'writer') invalid('only writers have path prefixes');
  if (prefixes.length > MAX_PREFIXES) invalid(`more than ${MAX_PREFIXES} path prefixes`);
  w.u8(role).varint(prefixes.length, 'prefix count');
  prefixes.forEach((p, j) => {
    if (j > 0 && !(compareUtf8(prefixes[j - 1], p) < 0)) invalid('path prefixes must be sorted (UTF-8 order) and unique');
    w.string(p, MAX_PREFIX_BYTES, 'path prefix');
  });
}

/** Wraps the log encoder's errors so callers see one error type per module. */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof LogError) invalid(err.message);
    throw err;
  }
}

/** The canonical unsigned bytes of a manifest version. */
export function encodeManifest(m: ManifestVersion): Buffer {
  return guarded(() => {
    writeManifest(scratch.reset(), m);
    return scratch.finish();
  });
}

/** The version's identity: SHA-256 of its unsigned bytes. */
export const manifestHash = (m: ManifestVersion): Hash => sha256Hex(encodeManifest(m));

/** What an admin signs: a fixed prefix, then the unsigned bytes. */
export const manifestSigningBytes = (m: ManifestVersion): Buffer => Buffer.concat([MANIFEST_SIGNING_PREFIX, encodeManifest(m)]);

function header(r: Reader, kind: number, what: string): void {
  const k = r.u8('kind');
  if (k !== kind) throw new DecodeError('DECODE_BAD_KIND', `expected ${what} (kind ${kind}), got kind ${k}`);
  const v = r.u8('format version');
  if (v !== FORMAT_VERSION) throw new DecodeError('DECODE_BAD_FORMAT_VERSION', `${what} format version ${v} is not ${FORMAT_VERSION}`);
}

function order(prev: string, next: string, what: string, cmp: (a: string, b: string) => number): void {
  const c = cmp(prev, next);
  if (c === 0) throw new DecodeError('DECODE_DUPLICATE', `${what} repeat`);
  if (c > 0) throw new DecodeError('DECODE_UNSORTED', `${what} are not sorted`);
}
const plain = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function decodeManifest(bytes: Uint8Array): ManifestVersion {
  const r = new Reader(bytes);
  header(r, KIND_MANIFEST, 'manifest');
  const folder = r.folder();
  const name = r.string(MAX_NAME_BYTES, 'name');
  const version = r.int('version', 1);
  const prev = version === 1 ? null : r.hash('prev');
  const author = r.fingerprint('author');
  const createdAtMs = r.varint('createdAtMs');
  const nm = r.int('member count', 0, MAX_MEMBERS);
  if (nm * 24 > r.remaining) throw new DecodeError('DECODE_TRUNCATED', `member count ${nm} exceeds the bytes left`);
  const members: Member[] = [];
  for (let i = 0; i < nm; i++) {
    const fingerprint = r.fingerprint('member');
    if (i > 0) order(members[i - 1].fingerprint, fingerprint, 'members', plain);
    const mname = r.string(MAX_NAME_BYTES, 'member name');
    const publicKeyArmored = r.string(MAX_KEY_BYTES, 'public key');
    members.push({ fingerprint, name: mname, publicKeyArmored, ...readGrant(r) });
  }
  const nr = r.int('revocation count', 0, MAX_MEMBERS);
  if (nr * 21 > r.remaining) throw new DecodeError('DECODE_TRUNCATED', `revocation count ${nr} exceeds the bytes left`);
  const revocations: Revocation[] = [];
  for (let i = 0; i < nr; i++) {
    const fingerprint = r.fingerprint('revoked member');
    if (i > 0) order(revocations[i - 1].fingerprint, fingerprint, 'revocations', plain);
    revocations.push({ fingerprint, lastValidSeq: r.varint('lastValidSeq') });
  }
  const ni = r.int('ignore rule count', 0, MAX_IGNORE_RULES);
  const ignoreRules: string[] = [];
  for (let i = 0; i < ni; i++) ignoreRules.push(r.string(MAX_IGNORE_RULE_BYTES, 'ignore rule'));
  if (r.remaining > 0) readEarlier(r, members);
  r.end('manifest');
  return { folder, name, version, prev, author, createdAtMs, members, revocations, ignoreRules };
}

function readGrant(r: Reader): { role: Role; pathPrefixes?: string[] } {
  const rb = r.u8('role');
  const role = ROLE_NAMES[rb];
  if (role === undefined) throw new DecodeError('DECODE_BAD_VALUE', `role ${rb}`);
  const np = r.int('prefix count', 0, MAX_PREFIXES);
  if (np > 0 && role !== 'writer') throw new DecodeError('DECODE_BAD_VALUE', `a ${role} has no path prefixes`);
  const prefixes: string[] = [];
  for (let j = 0; j < np; j++) {
    prefixes.push(r.string(MAX_PREFIX_BYTES, 'path prefix'));
    if (j > 0) order(prefixes[j - 1], prefixes[j], 'path prefixes', compareUtf8);
  }
  return np > 0 ? { role, pathPrefixes: prefixes } : { role };
}

/** The trailing earlier-grants section: members named in order, each once, each with at least one grant. */
function readEarlier(r: Reader, members: Member[]): void {
  const n = r.int('earlier-grant member count', 1, members.length);
  let at = 0;
  let prevFp: string | undefined;
  for (let i = 0; i < n; i++) {
    const fp = r.fingerprint('member with earlier grants');
    if (prevFp !== undefined) order(prevFp, fp, 'members with earlier grants', plain);
    prevFp = fp;
    while (at < members.length && members[at].fingerprint < fp) at++;
    if (at === members.length || members[at].fingerprint !== fp) throw new DecodeError('DECODE_BAD_VALUE', `earlier grants of ${fp}, who is not a member`);
    const k = r.int('earlier grant count', 1, MAX_EARLIER_GRANTS);
    if (k * 3 > r.remaining) throw new DecodeError('DECODE_TRUNCATED', `earlier grant count ${k} exceeds the bytes left`);
    const list: EarlierGrant[] = [];
    for (let j = 0; j < k; j++) {
      const untilSeq = r.varint('untilSeq');
      if (j > 0 && untilSeq < list[j - 1].untilSeq) throw new DecodeError('DECODE_UNSORTED', 'earlier grants are not ordered by untilSeq');
      list.push({ untilSeq, ...readGrant(r) });
    }
    members[at] = { ...members[at], earlier: list };
  }
}

export function encodeSignedManifest(s: SignedManifest): Buffer {
  const body = encodeManifest(s.manifest);
  return guarded(() => scratch.reset().u8(KIND_SIGNED_MANIFEST).u8(FORMAT_VERSION).bytes(body, MAX_MANIFEST_BYTES, 'manifest').bytes(s.signature, MAX_SIGNATURE_BYTES, 'signature').finish());
}

/** Decodes a signed manifest and returns its hash (of the unsigned bytes) with it. */
export function decodeSignedManifest(bytes: Uint8Array): SignedManifest & { hash: Hash } {
  const r = new Reader(bytes);
  header(r, KIND_SIGNED_MANIFEST, 'signed manifest');
  const body = r.bytes(MAX_MANIFEST_BYTES, 'manifest');
  const sig = r.bytes(MAX_SIGNATURE_BYTES, 'signature');
  r.end('signed manifest');
  const manifest = decodeManifest(body);
  return { manifest, signature: new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength), hash: sha256Hex(body) };
}
