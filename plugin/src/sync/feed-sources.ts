/**
 * Which peer is sending this node each feed, one per folder. A node back from a week away
 * hears the same backlog from every member online at once: every entry arrives once per peer,
 * and all but the first copy are wasted on the senders, the hosts between and here.
 *
 * So each feed has at most one source at a time, and the other peers are asked to hold that
 * feed (protocol 4: Hold):
 * - an author is the source of its own feed from the moment its session speaks (it has the
 *   whole feed, and its Hello comes before any entry, so a relay is held before it sends);
 * - for a feed whose author is not here, the first peer whose batch of it says more follows.
 * Once the source is done (a batch without more, its CaughtUp, its session's end, or STALL_MS
 * without a batch), every session holding the feed is told, and sends its peer Resume with
 * where this node is in the feed: that ends the hold and brings what the source did not send.
 */
import type { Fingerprint } from '../log';

/** A source that sends nothing for this long no longer holds the others back. */
export const SOURCE_STALL_MS = 5000;

/** A session, as the folder's sources see it. */
export interface FeedHolder {
  readonly peer: Fingerprint;
  /** Asks the peer to hold these feeds (never its own; a peer before version 4 is not asked). */
  holdFeeds(authors: readonly Fingerprint[]): void;
  /** The source of one of the feeds it holds is done (called once per registration). */
  released(): void;
}

interface Source {
  readonly peer: Fingerprint;
  timer: NodeJS.Timeout;
}

export class FeedSources {
  private readonly sources = new Map<Fingerprint, Source>();
  private readonly holders = new Map<Fingerprint, Set<FeedHolder>>();
  /** Sessions whose peer spoke (its Hello), by peer. */
  private readonly speaking = new Map<Fingerprint, FeedHolder>();
  private closed = false;

  constructor(private readonly stallMs = SOURCE_STALL_MS) {}

  /**
   * `holder`'s peer spoke: it is the source of its own feed, every other peer holds that feed,
   * and it holds every feed another peer is sending now.
   */
  spoke(holder: FeedHolder): void {
    if (this.closed) return;
    this.speaking.set(holder.peer, holder);
    this.claim(holder.peer, holder.peer);
    const elsewhere = [...this.sources].filter(([author, s]) => s.peer !== holder.peer && author !== holder.peer).map(([author]) => author);
    if (elsewhere.length > 0) holder.holdFeeds(elsewhere);
    for (const [peer, other] of this.speaking) if (peer !== holder.peer) other.holdFeeds([holder.peer]);
  }

  /**
   * `peer` sent a batch of `author`'s feed that says more follows: true when another peer is
   * that feed's source (this one should hold it); otherwise `peer` is (or stays) the source.
   */
  sending(author: Fingerprint, peer: Fingerprint): boolean {
    if (this.closed) return false;
    const had = this.sources.get(author);
    if (had !== undefined && had.peer !== peer) return true;
    this.claim(author, peer);
    return false;
  }

  private claim(author: Fingerprint, peer: Fingerprint): void {
    const had = this.sources.get(author);
    if (had !== undefined && had.peer === peer) return void had.timer.refresh();
    if (had !== undefined) return;
    const timer = setTimeout(() => this.ended(author, peer), this.stallMs);
    timer.unref();
    this.sources.set(author, { peer, timer });
  }

  /** `holder` asked its peer to hold `author`'s feed: it hears when the source is done. */
  hold(author: Fingerprint, holder: FeedHolder): void {
    if (!this.sources.has(author)) return void queueMicrotask(() => holder.released());
    let set = this.holders.get(author);
    if (set === undefined) this.holders.set(author, (set = new Set()));
    set.add(holder);
  }

  /** `holder` no longer holds anything (its peer heard our Vector, which ends every hold). */
  forget(holder: FeedHolder): void {
    for (const [author, set] of this.holders) if (set.delete(holder) && set.size === 0) this.holders.delete(author);
  }

  /** `holder`'s session ended: it sends nothing more and holds nothing. */
  gone(holder: FeedHolder): void {
    if (this.speaking.get(holder.peer) === holder) this.speaking.delete(holder.peer);
    this.forget(holder);
    this.endedAll(holder.peer);
  }

  /** `peer`'s push of `author`'s feed is done (a batch without more, or it stalled). */
  ended(author: Fingerprint, peer: Fingerprint): void {
    const had = this.sources.get(author);
    if (had === undefined || had.peer !== peer) return;
    clearTimeout(had.timer);
    this.sources.delete(author);
    const set = this.holders.get(author);
    if (set === undefined) return;
    this.holders.delete(author);
    for (const h of set) h.released();
  }

  /** Every feed `peer` was the source of is done (its CaughtUp, its session ended). */
  endedAll(peer: Fingerprint): void {
    for (const [author, s] of [...this.sources]) if (s.peer === peer) this.ended(author, peer);
  }

  /** The source of `author`'s feed, if one is sending it now. */
  sourceOf(author: Fingerprint): Fingerprint | undefined {
    return this.sources.get(author)?.peer;
  }

  close(): void {
    this.closed = true;
    for (const s of this.sources.values()) clearTimeout(s.timer);
    this.sources.clear();
    this.holders.clear();
    this.speaking.clear();
  }
}
