/** Makes every pair of apps friends, as two people would by pasting each other's certificate into their UI. */
import type { DevhostApp } from './devhost-app';

export async function befriendAll(apps: readonly DevhostApp[]): Promise<void> {
  for (const a of apps) {
    for (const b of apps) {
      if (a === b) continue;
      const fp = b.devhost.node.self().fingerprint;
      if (!a.devhost.node.peers().some((p) => p.fingerprint === fp)) await a.devhost.node.addFriend(b.devhost.node.certificate());
    }
  }
}
