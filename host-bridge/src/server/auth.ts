/** Bearer tokens and manifest capabilities: who is calling, and may they. */
import type { Metadata } from '@grpc/grpc-js';
import { AUTH_METADATA_KEY, type Capability } from '../../../proto';
import { Refusal } from './errors';
import type { PluginManifest } from './manifest';
import type { PluginRegistry } from './registry';

/** The calling plugin's manifest, checked for `capability` when given; throws Refusal otherwise. */
export function authorize(registry: PluginRegistry, metadata: Metadata, capability: Capability | undefined): PluginManifest {
  const values = metadata.get(AUTH_METADATA_KEY);
  if (values.length === 0) throw new Refusal('UNAUTHENTICATED', `missing '${AUTH_METADATA_KEY}: Bearer <token>' metadata`);
  const raw = String(values[0]);
  const m = /^Bearer\s+(\S+)$/i.exec(raw);
  if (!m) throw new Refusal('UNAUTHENTICATED', `'${AUTH_METADATA_KEY}' metadata must be 'Bearer <token>'`);
  const manifest = registry.lookup(m[1]);
  if (!manifest) throw new Refusal('UNAUTHENTICATED', 'unknown plugin token (the host issues a new one at every plugin start)');
  if (capability !== undefined && !manifest.capabilities.includes(capability)) {
    throw new Refusal('PERMISSION_DENIED', `plugin '${manifest.id}' did not declare capability '${capability}' in its manifest`);
  }
  return manifest;
}
