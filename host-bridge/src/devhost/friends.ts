/** The friend list: whom this node trusts, persisted in `<dataDir>/friends.json` (atomic writes). */
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { parseCertificate, type ParsedCertificate } from './certificate';
import { DevhostError } from './errors';
import { readFileIfExists, writeFileAtomic } from './fsutil';
import { fingerprintOf } from './pgp';

export interface Friend {
  fingerprint: string;
  name: string;
  locationId: string;
  address: string;
  publicKeyArmored: string;
  addedAtMs: number;
}

interface FriendsFile {
  version: 1;
  friends: Friend[];
}

export class FriendStore {
  private readonly byFp = new Map<string, { friend: Friend; key: openpgp.Key }>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string, private readonly selfFingerprint: string) {}

  static async open(dataDir: string, selfFingerprint: string): Promise<FriendStore> {
    const store = new FriendStore(path.join(dataDir, 'friends.json'), selfFingerprint);
    const text = await readFileIfExists(store.file);
    if (text !== undefined) {
      let parsed: FriendsFile;
      try {
        parsed = JSON.parse(text) as FriendsFile;
      } catch (err) {
        throw new DevhostError('STORE_CORRUPT', `${store.file}: ${(err as Error).message}`);
      }
      if (parsed.version !== 1 || !Array.isArray(parsed.friends)) throw new DevhostError('STORE_CORRUPT', `${store.file}: unknown format`);
      for (const f of parsed.friends) {
        const key = await openpgp.readKey({ armoredKey: f.publicKeyArmored });
        // The file is ours, but a key that does not match its fingerprint would let the wrong party in.
        if (fingerprintOf(key) !== f.fingerprint) throw new DevhostError('STORE_CORRUPT', `${store.file}: key of ${f.fingerprint} does not match`);
        store.byFp.set(f.fingerprint, { friend: f, key });
      }
    }
    return store;
  }

  list(): Friend[] {
    return [...this.byFp.values()].map((e) => ({ ...e.friend }));
  }

  get(fingerprint: string): Friend | undefined {
    const e = this.byFp.get(fingerprint);
    return e && { ...e.friend };
  }

  publicKey(fingerprint: string): openpgp.Key | undefined {
    return this.byFp.get(fingerprint)?.key;
  }

  /** Adds a friend (or refreshes name/address/location of an existing one). */
  async addCertificate(cert: string | ParsedCertificate, nowMs: number): Promise<{ friend: Friend; isNew: boolean }> {
    const parsed = typeof cert === 'string' ? await parseCertificate(cert) : cert;
    if (parsed.fingerprint === this.selfFingerprint) throw new DevhostError('SELF_FRIEND', 'that is this node’s own certificate');
    const existing = this.byFp.get(parsed.fingerprint);
    const friend: Friend = {
      fingerprint: parsed.fingerprint,
      name: parsed.name,
      locationId: parsed.locationId,
      address: parsed.address,
      publicKeyArmored: parsed.publicKeyArmored,
      addedAtMs: existing?.friend.addedAtMs ?? nowMs,
    };
    this.byFp.set(friend.fingerprint, { friend, key: parsed.publicKey });
    await this.persist();
    return { friend: { ...friend }, isNew: !existing };
  }

  /** A friend announced a new listen address over an authenticated link. */
  async updateAddress(fingerprint: string, address: string): Promise<void> {
    const e = this.byFp.get(fingerprint);
    if (!e || e.friend.address === address) return;
    e.friend = { ...e.friend, address };
    await this.persist();
  }

  async remove(fingerprint: string): Promise<Friend> {
    const e = this.byFp.get(fingerprint);
    if (!e) throw new DevhostError('NOT_A_FRIEND', `${fingerprint} is not a friend`);
    this.byFp.delete(fingerprint);
    await this.persist();
    return e.friend;
  }

  /** Writes are serialised so a slow earlier write never lands after a later one. */
  private persist(): Promise<void> {
    const snapshot: FriendsFile = { version: 1, friends: this.list().sort((a, b) => a.fingerprint.localeCompare(b.fingerprint)) };
    const next = this.writing.then(() => writeFileAtomic(this.file, `${JSON.stringify(snapshot, null, 2)}\n`, 0o600));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
