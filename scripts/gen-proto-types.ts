/**
 * Generates proto/generated/ from proto/*.proto with the same options the loader uses.
 * `--check` regenerates into a temporary folder and fails when the checked-in types differ.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROTO_GEN_FLAGS } from '../proto/loader-options';

const root = path.resolve(__dirname, '..');
const protoDir = path.join(root, 'proto');
const outDir = path.join(protoDir, 'generated');
const protos = fs.readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
const check = process.argv.includes('--check');

function generate(into: string): void {
  fs.rmSync(into, { recursive: true, force: true });
  fs.mkdirSync(into, { recursive: true });
  execFileSync(
    path.join(root, 'node_modules', '.bin', 'proto-loader-gen-types'),
    [...protos, ...PROTO_GEN_FLAGS, '--grpcLib=@grpc/grpc-js', `--outDir=${into}`, `--includeDirs=.`],
    { cwd: protoDir, stdio: 'inherit' },
  );
}

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  }).sort();
}

if (check) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kinfolder-proto-'));
  try {
    generate(tmp);
    const want = listFiles(tmp);
    const have = fs.existsSync(outDir) ? listFiles(outDir) : [];
    const stale = want.filter((f) => !have.includes(f) || fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(outDir, f), 'utf8'));
    const extra = have.filter((f) => !want.includes(f));
    if (stale.length || extra.length) {
      console.error(`proto/generated is out of date (${[...stale, ...extra].join(', ')}): run npm run proto:gen`);
      process.exit(1);
    }
    console.log(`proto/generated is up to date (${want.length} files)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  generate(outDir);
  console.log(`generated ${listFiles(outDir).length} files into proto/generated`);
}
