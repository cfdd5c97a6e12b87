/** Lets writes that queue up behind a running transaction share the next commit, each in its own savepoint. */
import { TransactionLost, type Db, type Transaction } from './db';

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * A commit costs about as much as the pages it writes to the WAL, and a batch with random keys
 * (the by-hash index) dirties pages all over; ten writers committing ten small batches each
 * write those pages ten times. Here, batches submitted while a transaction runs wait for the
 * next one and commit together. Each runs in a savepoint, so a batch that fails (a fork, an
 * abort) is undone alone and rejected alone; the others commit. A group commits atomically, so
 * each batch is still all-or-nothing on disk.
 */
export class GroupCommit<I, R> {
  private open: Array<Waiting<I, R>> | undefined;

  constructor(
    private readonly db: Db,
    private readonly body: (tx: Transaction, item: I) => Promise<R>,
    private readonly maxGroup = 32,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      // The group's transaction is queued at once, so close() waits for it like any other write.
      if (!this.open || this.open.length >= this.maxGroup) this.startGroup();
      this.open!.push({ item, resolve, reject });
    });
  }

  private startGroup(): void {
    const group: Array<Waiting<I, R>> = [];
    this.open = group;
    const outcomes: Array<Outcome<R>> = [];
    this.db
      .transaction(async (tx) => {
        // From here on, new submissions form the next group.
        if (this.open === group) this.open = undefined;
        if (group.length === 1) {
          // Alone: the transaction itself is the savepoint.
          outcomes.push({ ok: true, value: await this.body(tx, group[0].item) });
          return;
        }
        for (const w of group) {
          try {
            outcomes.push({ ok: true, value: await tx.savepoint((sp) => this.body(sp, w.item)) });
          } catch (e) {
            if (e instanceof TransactionLost) throw e.original;
            outcomes.push({ ok: false, error: e });
          }
        }
      })
      .then(
        () =>
          group.forEach((w, i) => {
            const o = outcomes[i];
            if (o.ok) w.resolve(o.value);
            else w.reject(o.error);
          }),
        (e) => group.forEach((w) => w.reject(e)),
      );
  }
}
