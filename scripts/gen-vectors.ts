/**
 * Writes test/vectors/log.json and acl.json from the committed test keys and fixed inputs
 * (test/vectors/build.ts). `--new-keys` first replaces the test keys (then commit them).
 * Run: npx tsx scripts/gen-vectors.ts [--new-keys]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { buildAclVectors, buildLogVectors } from '../test/vectors/build';
import { KEY_DIR, NAMES } from '../test/vectors/fixtures';

const VECTOR_DIR = path.join(__dirname, '..', 'test', 'vectors');

async function newKeys(): Promise<void> {
  const date = new Date('2024-01-01T00:00:00Z');
  for (const name of NAMES) {
    const userIDs = [{ name, email: `${name}@kinfolder.test` }];
    // bob has an RSA key, as Retroshare identities do; the others Ed25519.
    const { privateKey } = await openpgp.generateKey(
      name === 'bob' ? { type: 'rsa', rsaBits: 3072, userIDs, date, format: 'armored' } : { type: 'ecc', curve: 'ed25519Legacy', userIDs, date, format: 'armored' },
    );
    fs.writeFileSync(path.join(KEY_DIR, `${name}.key.asc`), privateKey);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--new-keys')) await newKeys();
  const write = (name: string, data: unknown): void => fs.writeFileSync(path.join(VECTOR_DIR, name), JSON.stringify(data, null, 2) + '\n');
  write('log.json', await buildLogVectors());
  write('acl.json', await buildAclVectors());
  console.log('wrote test/vectors/log.json and acl.json');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
