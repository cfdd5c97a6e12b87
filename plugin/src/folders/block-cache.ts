/**
 * Blocks received from peers, kept on disk (`.kinfolder/incoming/`) until the files that
 * need them are applied: a transfer cut by a dropped link or a crash resumes without fetching
 * again what already arrived.
 *
 * Blocks are appended to pack files (`pack-<n>`: records of 32-byte hash, u32 BE length,
 * data), not one file each: creating a file per block cost a receiver more CPU than writing
 * its bytes. Which blocks are where is listed from the packs once and then known in memory.
 * Every block is checked against its hash when read back, so a torn or altered record is only
 * a miss (a torn tail is written over). Past the bound, the oldest pack goes.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BlockSource } from '../apply';
import { sha256 } from '../apply/blocks';

const HASH = /^[0-9a-f]{64}$/;
const PACK = /^pack-(\d+)$/;
const HEAD_BYTES = 32 + 4;
/** Beyond this, the oldest blocks go first: a cache, not a second copy of the folder. */
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;

const fsOpen = promisify(fs.open);
const fsRead = promisify(fs.read);
const fsWrite = promisify(fs.write);
const fsClose = promisify(fs.close);
const fsFstat = promisify(fs.fstat);

interface Pack {
  readonly n: number;
  readonly file: string;
  readonly fd: number;
  /** Where the next record goes (the end of the last whole record). */
  size: number;
}

interface Kept {
  readonly pack: Pack;
  readonly offset: number;
  readonly size: number;
}

interface State {
  readonly packs: Pack[];
  readonly index: Map<string, Kept>;
  bytes: number;
}

async function readFully(fd: number, buf: Buffer, position: number): Promise<boolean> {
  for (let got = 0; got < buf.length; ) {
    const { bytesRead } = await fsRead(fd, buf, got, buf.length - got, position + got);
    if (bytesRead === 0) return false;
    got += bytesRead;
  }
  return true;
}

async function writeFully(fd: number, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fsWrite(fd, buf, off, buf.length - off, position + off)).bytesWritten;
}

export class CachingBlockSource implements BlockSource {
  private state: Promise<State> | undefined;
  /** Appends one after another: each record's place is the pack's end when it is written. */
  private appending: Promise<void> = Promise.resolve();
  private readonly packBytes: number;

  constructor(
    private readonly dir: string,
    private readonly network: BlockSource,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {
    this.packBytes = Math.max(1, Math.floor(maxBytes / 4));
  }

  async read(hash: string, size: number, signal?: AbortSignal): Promise<Buffer | undefined> {
    if (!HASH.test(hash)) return this.network.read(hash, size, signal);
    const st = await this.load();
    const at = st.index.get(hash);
    if (at !== undefined && at.size === size) {
      const data = Buffer.allocUnsafe(size);
      const ok = await readFully(at.pack.fd, data, at.offset).catch(() => false);
      if (ok && sha256(data) === hash) return data;
      if (st.index.get(hash) === at) st.index.delete(hash); // altered: written again once fetched
    }
    const data = await this.network.read(hash, size, signal);
    if (data) await this.keep(hash, data).catch(() => undefined);
    return data;
  }

  private keep(hash: string, data: Buffer): Promise<void> {
    const run = this.appending.then(async () => {
      const st = await this.load();
      if (st.index.has(hash)) return;
      let pack = st.packs[st.packs.length - 1];
      if (pack === undefined || (pack.size > 0 && pack.size + HEAD_BYTES + data.length > this.packBytes)) {
        await fsp.mkdir(this.dir, { recursive: true });
        const n = pack === undefined ? 1 : pack.n + 1;
        const file = path.join(this.dir, `pack-${n}`);
        pack = { n, file, fd: await fsOpen(file, 'w+'), size: 0 };
        st.packs.push(pack);
      }
      const head = Buffer.allocUnsafe(HEAD_BYTES);
      head.write(hash, 0, 'hex');
      head.writeUInt32BE(data.length, 32);
      const at = pack.size;
      await writeFully(pack.fd, head, at);
      await writeFully(pack.fd, data, at + HEAD_BYTES);
      pack.size = at + HEAD_BYTES + data.length;
      st.index.set(hash, { pack, offset: at + HEAD_BYTES, size: data.length });
      st.bytes += HEAD_BYTES + data.length;
      while (st.bytes > this.maxBytes && st.packs.length > 1) await this.drop(st, st.packs[0]);
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async drop(st: State, pack: Pack): Promise<void> {
    st.packs.splice(st.packs.indexOf(pack), 1);
    for (const [h, k] of st.index) if (k.pack === pack) st.index.delete(h);
    st.bytes -= pack.size;
    await fsClose(pack.fd).catch(() => undefined);
    await fsp.rm(pack.file, { force: true });
  }

  private load(): Promise<State> {
    this.state ??= this.scan();
    return this.state;
  }

  /** Lists the packs left by an earlier run (a restarted sidecar resumes from them). */
  private async scan(): Promise<State> {
    const st: State = { packs: [], index: new Map(), bytes: 0 };
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const ns = names.map((n) => PACK.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
    for (const n of ns) {
      const file = path.join(this.dir, `pack-${n}`);
      const fd = await fsOpen(file, 'r+').catch(() => undefined);
      if (fd === undefined) continue;
      const end = (await fsFstat(fd)).size;
      const pack: Pack = { n, file, fd, size: 0 };
      const head = Buffer.allocUnsafe(HEAD_BYTES);
      while (pack.size + HEAD_BYTES <= end && (await readFully(fd, head, pack.size))) {
        const size = head.readUInt32BE(32);
        if (pack.size + HEAD_BYTES + size > end) break; // torn tail: the next record goes here
        st.index.set(head.toString('hex', 0, 32), { pack, offset: pack.size + HEAD_BYTES, size });
        pack.size += HEAD_BYTES + size;
      }
      st.packs.push(pack);
      st.bytes += pack.size;
    }
    return st;
  }

  /** Closes the packs (the folder closes); what they hold stays for the next start. */
  async close(): Promise<void> {
    const done = this.appending.then(async () => {
      const st = await this.state?.catch(() => undefined);
      this.state = undefined;
      for (const p of st?.packs ?? []) await fsClose(p.fd).catch(() => undefined);
    });
    this.appending = done.catch(() => undefined);
    await done;
  }

  /** Everything arrived and was applied: the kept blocks are in the files now. */
  async clear(): Promise<void> {
    const done = this.appending.then(async () => {
      const st = await this.state?.catch(() => undefined);
      this.state = Promise.resolve({ packs: [], index: new Map(), bytes: 0 });
      for (const p of st?.packs ?? []) await fsClose(p.fd).catch(() => undefined);
      await fsp.rm(this.dir, { recursive: true, force: true });
    });
    this.appending = done.catch(() => undefined);
    await done;
  }
}
