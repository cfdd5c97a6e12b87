/** The plugin manifest as the server uses it, and its validation against the committed JSON schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import type { Capability } from '../../../proto';
import { PluginManifestError } from './errors';
import type { MallocTuning } from './malloc-env';
import { nodeArgProblems } from './node-args';

export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  description?: string;
  entry: string;
  contract: 'kinfolder.host.v1';
  capabilities: Capability[];
  links?: { services: string[] };
  /** How the host runs the entry point: Node heap flags from a short allow-list (see node-args.ts), glibc malloc tuning (see malloc-env.ts). */
  runtime?: { nodeArgs?: string[]; malloc?: MallocTuning };
}

export const PLUGIN_MANIFEST_SCHEMA_PATH = path.join(__dirname, '..', '..', '..', 'proto', 'plugin-manifest.schema.json');

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let compiled: Validator | undefined;

function validator(): Validator {
  if (!compiled) {
    const schema = JSON.parse(fs.readFileSync(PLUGIN_MANIFEST_SCHEMA_PATH, 'utf8'));
    compiled = new Ajv({ allErrors: true, strict: false }).compile(schema) as Validator;
  }
  return compiled;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? '/' : e.instancePath;
  const p = e.params as Record<string, unknown>;
  let detail = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') detail += ` '${String(p.additionalProperty)}'`;
  else if (e.keyword === 'enum') detail += ` (${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`;
  else if (e.keyword === 'const') detail += ` ${JSON.stringify(p.allowedValue)}`;
  return `${at}: ${detail}`;
}

/** Returns the manifest typed, or throws PluginManifestError naming every violation with its JSON path. */
export function validateManifest(json: unknown): PluginManifest {
  const validate = validator();
  let problems: string[];
  if (validate(json)) {
    // What the schema can not say: each flag once, its value within bounds.
    const manifest = json as PluginManifest;
    // (The malloc tuning's keys and bounds are all in the schema; the launcher checks them again.)
    problems = nodeArgProblems(manifest.runtime?.nodeArgs ?? []).map((p) => `/runtime/nodeArgs: ${p}`);
    if (problems.length === 0) return manifest;
  } else {
    // The "if/then" wrapper error only repeats the `required` error beneath it.
    problems = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(describe);
  }
  const id = typeof json === 'object' && json !== null && typeof (json as { id?: unknown }).id === 'string' ? ` '${(json as { id: string }).id}'` : '';
  throw new PluginManifestError('MANIFEST_INVALID', `plugin manifest${id} is invalid:\n  ${problems.join('\n  ')}`, problems);
}
