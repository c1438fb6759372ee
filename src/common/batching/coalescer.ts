/**
 * Runs one call for many callers (group commit): an item waits for the current turn of the event loop, then goes
 * with every other waiting item in one call, unless `maxCalls` calls are already running; then it waits for the
 * first of them to end and goes with the items that arrived meanwhile. Every caller gets its own result, or the error
 * of the call its item was in.
 */
export class Coalescer<Item, Result> {
  private waiting: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private calls = 0;
  private scheduled = false;

  /** `run` returns one result per item, in the items' order. */
  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxItems: number; maxCalls: number },
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
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
}
