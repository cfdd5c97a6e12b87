/** The sidecar's command line: reads the host address and token the host gave it, and runs until told to stop. */
import * as path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { startSidecar } from './sidecar';

const STOP_GRACE_MS = 3_000;

async function main(argv: string[]): Promise<void> {
  const program = new Command('kinfolder')
    .description('Kinfolder sidecar: shared folders for a friend-to-friend chat host')
    .option('--host <address>', 'host contract address (unix:/path or 127.0.0.1:port)', process.env.KINFOLDER_HOST_ADDRESS)
    .option('--token <token>', 'token the host gave this plugin', process.env.KINFOLDER_HOST_TOKEN)
    .option('--data <dir>', 'data directory', process.env.KINFOLDER_DATA_DIR ?? path.join(process.cwd(), '.kinfolder-sidecar'))
    .option('--log-level <level>', 'log level', process.env.KINFOLDER_LOG_LEVEL ?? 'info')
    .parse(argv);
  const o = program.opts<{ host?: string; token?: string; data: string; logLevel: string }>();
  if (!o.host || !o.token) program.error('kinfolder: no host address or token (set --host/--token or KINFOLDER_HOST_ADDRESS/KINFOLDER_HOST_TOKEN)');
  const log = pino({ name: 'kinfolder', level: o.logLevel }, pino.destination(2));
  const sidecar = await startSidecar({ hostAddress: o.host!, hostToken: o.token!, dataDir: path.resolve(o.data), log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'sidecar:stop', signal }, 'stopping');
    // Stopping waits for work in flight; a stop that hangs (say, on a host that is gone) must
    // not keep the process alive: every store write is a transaction, so exiting is safe.
    setTimeout(() => {
      log.warn({ event: 'sidecar:stop-timeout' }, 'stop took too long; exiting');
      process.exit(1);
    }, STOP_GRACE_MS).unref();
    sidecar.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (process.env.KINFOLDER_EXIT_WITH_HOST === '1') {
    process.stdin.on('close', () => stop('host exited'));
    process.stdin.resume();
  }
}

main(process.argv).catch((err: Error) => {
  process.stderr.write(`kinfolder: ${err.message}\n`);
  process.exit(1);
});
