/**
 * Shape checks for what the browser sends. The folder service judges meaning (is the path inside
 * the folder, may this member do it); these only refuse what is not even the right shape, with a
 * message that names the field.
 */
import type { Role } from '../acl';
import type { ConflictChoice, MemberEdit } from '../folders/types';
import { PanelError } from './errors';

const ROLES: readonly Role[] = ['admin', 'writer', 'reader'];
const MAX_TEXT = 4096;
const MAX_PREFIXES = 64;

export type Body = Record<string, unknown>;

/** A JSON body must be an object with no keys beyond `allowed`: a typo fails loudly instead of being ignored. */
export function object(body: unknown, allowed: readonly string[]): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PanelError('BAD_INPUT', 'the body must be a JSON object');
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new PanelError('BAD_INPUT', `unknown field(s): ${extra.join(', ')}`);
  return body as Body;
}

/** A non-empty string without NUL, at most `max` characters. */
export function text(value: unknown, field: string, max = MAX_TEXT): string {
  if (typeof value !== 'string') throw new PanelError('BAD_INPUT', `${field} must be a string`);
  if (value.trim() === '') throw new PanelError('BAD_INPUT', `${field} must not be empty`);
  if (value.length > max) throw new PanelError('BAD_INPUT', `${field} is longer than ${max} characters`);
  if (value.includes('\0')) throw new PanelError('BAD_INPUT', `${field} must not contain NUL`);
  return value;
}

/** Like `text` but '' is allowed (the folder's root directory). */
export function dir(value: string | null): string {
  if (value === null || value === '') return '';
  return text(value, 'dir');
}

export function role(value: unknown): Role {
  if (!ROLES.includes(value as Role)) throw new PanelError('BAD_INPUT', `role must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

export function prefixes(value: unknown): string[] {
  if (!Array.isArray(value)) throw new PanelError('BAD_INPUT', 'pathPrefixes must be an array of strings');
  if (value.length > MAX_PREFIXES) throw new PanelError('BAD_INPUT', `pathPrefixes takes at most ${MAX_PREFIXES} prefixes`);
  return value.map((p, i) => text(p, `pathPrefixes[${i}]`, 1024));
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new PanelError('BAD_INPUT', `${field} must be true or false`);
  return value;
}

/** An integer query parameter in [min, max]; `fallback` when absent. */
export function int(value: string | null, field: string, fallback: number, min: number, max: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new PanelError('BAD_INPUT', `${field} must be an integer from ${min} to ${max}`);
  return n;
}

export function memberEdit(body: unknown): MemberEdit {
  const kind = (body as Body | null)?.kind;
  switch (kind) {
    case 'invite': {
      const b = object(body, ['kind', 'fingerprint', 'role', 'pathPrefixes']);
      const edit = { kind, fingerprint: text(b.fingerprint, 'fingerprint', 256), role: role(b.role) } as const;
      return b.pathPrefixes === undefined ? edit : { ...edit, pathPrefixes: prefixes(b.pathPrefixes) };
    }
    case 'role': {
      const b = object(body, ['kind', 'fingerprint', 'role']);
      return { kind, fingerprint: text(b.fingerprint, 'fingerprint', 256), role: role(b.role) };
    }
    case 'narrow': {
      const b = object(body, ['kind', 'fingerprint', 'pathPrefixes']);
      return { kind, fingerprint: text(b.fingerprint, 'fingerprint', 256), pathPrefixes: prefixes(b.pathPrefixes) };
    }
    case 'remove': {
      const b = object(body, ['kind', 'fingerprint']);
      return { kind, fingerprint: text(b.fingerprint, 'fingerprint', 256) };
    }
    default:
      object(body, ['kind', 'fingerprint', 'role', 'pathPrefixes']);
      throw new PanelError('BAD_INPUT', 'kind must be one of invite, role, narrow, remove');
  }
}

export function conflictChoice(body: unknown): { path: string; choice: ConflictChoice } {
  const b = object(body, ['path', 'keep', 'keepBoth']);
  const path = text(b.path, 'path');
  if (b.keep !== undefined && b.keepBoth !== undefined) throw new PanelError('BAD_INPUT', 'give either keep or keepBoth, not both');
  if (b.keepBoth !== undefined) {
    if (b.keepBoth !== true) throw new PanelError('BAD_INPUT', 'keepBoth must be true');
    return { path, choice: { keepBoth: true } };
  }
  if (b.keep === undefined) throw new PanelError('BAD_INPUT', 'give keep (a version hash) or keepBoth: true');
  return { path, choice: { keep: text(b.keep, 'keep', 256) } };
}
