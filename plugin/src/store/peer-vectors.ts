/** What each peer last said it has, so sync sends only what a peer is missing. */
import { insertChunks, valuesList } from './batch-sql';
import { checkSeq, checkText } from './codec';
import type { StoreContext } from './context';
import type { PeerVector } from './records';

export interface PeerVectorStore {
  /** Replaces the peer's whole vector for the folder (author → seq) in one transaction. */
  setPeerVector(folder: string, peer: string, seqs: ReadonlyMap<string, number>): Promise<void>;
  /** The vector last set; empty if never set. */
  peerVector(folder: string, peer: string): Promise<Map<string, number>>;
  /** Every peer's vector for the folder, by peer then author (for "who is in sync"). */
  peerVectors(folder: string): Promise<PeerVector[]>;
}

export function peerVectorStore(ctx: StoreContext): PeerVectorStore {
  const { writer, reader, folders } = ctx;

  async function setPeerVector(folder: string, peer: string, seqs: ReadonlyMap<string, number>): Promise<void> {
    checkText(peer, 'peer');
    const rows = [...seqs].map(([author, seq]) => [0, peer, checkText(author, 'author'), checkSeq(seq, 'seq')]);
    await writer.transaction(async (tx) => {
      const fid = await folders.ensureOneIn(tx, folder);
      for (const r of rows) r[0] = fid;
      await tx.run('DELETE FROM peer_vectors WHERE folder_id = ? AND peer = ?', [fid, peer]);
      await insertChunks(tx, rows, (n) => `INSERT INTO peer_vectors(folder_id, peer, author, seq) VALUES ${valuesList(n, 4)}`);
    });
  }

  async function peerVector(folder: string, peer: string): Promise<Map<string, number>> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return new Map();
    const rows = await reader.all<{ author: string; seq: number }>('SELECT author, seq FROM peer_vectors WHERE folder_id = ? AND peer = ? ORDER BY author', [fid, peer]);
    return new Map(rows.map((r) => [r.author, r.seq]));
  }

  async function peerVectors(folder: string): Promise<PeerVector[]> {
    const fid = await folders.lookup(folder);
    if (fid === undefined) return [];
    const rows = await reader.all<{ peer: string; author: string; seq: number }>(
      'SELECT peer, author, seq FROM peer_vectors WHERE folder_id = ? ORDER BY peer, author',
      [fid],
    );
    return rows.map((r) => ({ folder, ...r }));
  }

  return { setPeerVector, peerVector, peerVectors };
}
