/**
 * Runs one call for many callers: items submitted while a call is running wait and go together in the next call
 * (group commit). An idle coalescer waits only for the current turn of the event loop, so a lone item costs no extra
 * delay. Every caller gets its own result, or the error of the call its item was in.
 */
export class Coalescer<Item, Result> {
  private waiting: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private busy = false;

  /** `run` returns one result per item, in the items' order. */
  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly maxItems: number,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, this.maxItems);
      try {
        const results = await this.run(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.busy = false;
  }
}
