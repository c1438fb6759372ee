/** An item that waited longer than `maxWaitMs` for its call: answered 503 like a pool that had no connection (ETIMEDOUT). */
export class CoalescerWaitTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(waitedMs: number) {
    super(`waited ${waitedMs} ms for a database statement shared with other requests`);
  }
}

type Waiting<Item, Result> = { item: Item; since: number; resolve: (result: Result) => void; reject: (error: unknown) => void };

/**
 * Runs one call for many callers (group commit): an item waits for the current turn of the event loop, then goes
 * with every other waiting item in one call, unless `maxCalls` calls are already running; then it waits for the
 * first of them to end and goes with the items that arrived meanwhile. Every caller gets its own result, or the error
 * of the call its item was in. With `maxWaitMs`, an item still waiting after that long (its calls are stuck behind a
 * slow or unreachable database) is rejected with CoalescerWaitTimeout instead of waiting on, and is never sent.
 */
export class Coalescer<Item, Result> {
  private waiting: Waiting<Item, Result>[] = [];
  private calls = 0;
  private scheduled = false;
  private sweep: NodeJS.Timeout | null = null;

  /** `run` returns one result per item, in the items' order. */
  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxItems: number; maxCalls: number; maxWaitMs?: number },
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, since: Date.now(), resolve, reject });
      this.schedule();
      this.scheduleSweep();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.calls >= this.options.maxCalls || !this.waiting.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.call();
    });
  }

  private async call(): Promise<void> {
    if (this.calls >= this.options.maxCalls || !this.waiting.length) return;
    const batch = this.waiting.splice(0, this.options.maxItems);
    this.calls++;
    this.schedule(); // more than maxItems waited: the rest may go in a free call now
    try {
      const results = await this.run(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.calls--;
      this.schedule();
    }
  }

  /** While items wait, checks a few times per maxWaitMs for those that waited too long. */
  private scheduleSweep(): void {
    const { maxWaitMs } = this.options;
    if (!maxWaitMs || this.sweep || !this.waiting.length) return;
    this.sweep = setTimeout(() => {
      this.sweep = null;
      const now = Date.now();
      const expired = this.waiting.filter((w) => now - w.since >= maxWaitMs);
      if (expired.length) {
        this.waiting = this.waiting.filter((w) => now - w.since < maxWaitMs);
        for (const w of expired) w.reject(new CoalescerWaitTimeout(now - w.since));
      }
      this.scheduleSweep();
    }, Math.max(10, Math.floor(maxWaitMs / 4)));
    this.sweep.unref();
  }
}

/**
 * A batch statement's rows in its items' order: each row carries `n`, its item's 1-based position (WITH ORDINALITY);
 * an item without a row gets undefined.
 */
export function rowsByOrdinal<Row extends { n: number }>(rows: Row[], items: number): (Row | undefined)[] {
  const byItem: (Row | undefined)[] = new Array(items);
  for (const row of rows) byItem[row.n - 1] = row;
  return byItem;
}
