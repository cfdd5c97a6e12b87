/** Which plugins the host knows: manifest by token, one token per plugin id. */
import { randomBytes } from 'node:crypto';
import { type PluginManifest, validateManifest } from './manifest';

export class PluginRegistry {
  private readonly byToken = new Map<string, PluginManifest>();
  private readonly tokenById = new Map<string, string>();

  validateManifest(json: unknown): PluginManifest {
    return validateManifest(json);
  }

  /**
   * Mints the token the host hands the plugin at start (or takes back one the host kept
   * from an earlier run, so a running plugin can reconnect after a host restart); a later
   * register of the same id revokes the earlier token.
   */
  register(manifest: PluginManifest, keptToken?: string): { token: string } {
    const valid = validateManifest(manifest);
    const old = this.tokenById.get(valid.id);
    if (old !== undefined) this.byToken.delete(old);
    if (keptToken !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(keptToken)) throw new Error('a kept plugin token must be 32 bytes in base64url');
    const token = keptToken ?? randomBytes(32).toString('base64url');
    this.byToken.set(token, valid);
    this.tokenById.set(valid.id, token);
    return { token };
  }

  lookup(token: string): PluginManifest | undefined {
    return this.byToken.get(token);
  }

  unregister(pluginId: string): void {
    const token = this.tokenById.get(pluginId);
    if (token !== undefined) this.byToken.delete(token);
    this.tokenById.delete(pluginId);
  }
}
