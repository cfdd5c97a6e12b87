/** Runs a devhost node with its control socket; the composition point where the contract server and plugin launch get added. */
import { startControlServer } from './control';
import { DevhostNode, type DevhostNodeOptions } from './node';

export interface RunDevhostOptions extends DevhostNodeOptions {
  /** Serve the CLI control socket in the data dir (default true). */
  control?: boolean;
}

export interface RunningDevhost {
  node: DevhostNode;
  address: string;
  stop(): Promise<void>;
}

export async function runDevhost(opts: RunDevhostOptions): Promise<RunningDevhost> {
  const node = await DevhostNode.create(opts);
  let address: string;
  try {
    address = await node.start();
  } catch (err) {
    await node.stop();
    throw err;
  }
  let control: { close(): Promise<void> } | undefined;
  if (opts.control !== false) {
    try {
      control = await startControlServer(node, node.dataDir);
    } catch (err) {
      await node.stop();
      throw err;
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    node,
    address,
    stop: () => (stopping ??= (async () => {
      await control?.close();
      await node.stop();
    })()),
  };
}
