import { Coalescer, CoalescerWaitTimeout, rowsByOrdinal } from 'src/common/batching/coalescer';
import { isDependencyDown } from 'src/common/problem/problem.filter';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('Coalescer', () => {
  it('runs the items of one turn together, and those submitted meanwhile in the next call', async () => {
    const calls: number[][] = [];
    const first = gate();
    const coalescer = new Coalescer<number, number>(async (items) => {
      calls.push(items);
      if (calls.length === 1) await first.opened;
      return items.map((n) => n * 10);
    }, { maxItems: 100, maxCalls: 1 });
    const early = [1, 2, 3].map((n) => coalescer.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    const late = [4, 5].map((n) => coalescer.submit(n));
    first.open();
    await expect(Promise.all([...early, ...late])).resolves.toEqual([10, 20, 30, 40, 50]);
    expect(calls).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('never puts more than maxItems in one call', async () => {
    const calls: number[][] = [];
    const coalescer = new Coalescer<number, number>(async (items) => (calls.push(items), items), { maxItems: 2, maxCalls: 1 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => coalescer.submit(n)));
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("rejects every item of a failed call with its error, and goes on with the next call's items", async () => {
    const first = gate();
    let call = 0;
    const coalescer = new Coalescer<string, string>(async (items) => {
      if (++call === 1) {
        await first.opened;
        throw new Error('database is away');
      }
      return items.map((s) => s.toUpperCase());
    }, { maxItems: 100, maxCalls: 1 });
    const failed = [coalescer.submit('a'), coalescer.submit('b')];
    await new Promise((resolve) => setImmediate(resolve));
    const next = coalescer.submit('c');
    first.open();
    await expect(failed[0]).rejects.toThrow('database is away');
    await expect(failed[1]).rejects.toThrow('database is away');
    await expect(next).resolves.toBe('C');
    await expect(coalescer.submit('d')).resolves.toBe('D'); // idle again, starts a call of its own
  });

  it('runs up to maxCalls calls at once; the items that wait go together when one ends', async () => {
    const calls: number[][] = [];
    const gates = [gate(), gate()];
    const coalescer = new Coalescer<number, number>(async (items) => {
      const mine = calls.push(items) - 1;
      if (mine < 2) await gates[mine].opened;
      return items;
    }, { maxItems: 100, maxCalls: 2 });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const all = [coalescer.submit(1)];
    await turn();
    all.push(coalescer.submit(2));
    await turn();
    all.push(coalescer.submit(3), coalescer.submit(4));
    await turn();
    expect(calls).toEqual([[1], [2]]);
    gates[1].open();
    await all[1];
    await turn();
    expect(calls).toEqual([[1], [2], [3, 4]]);
    gates[0].open();
    await expect(Promise.all(all)).resolves.toEqual([1, 2, 3, 4]);
  });

  it('sends what is left over maxItems in a free call at once, not after the first call ends', async () => {
    const calls: number[][] = [];
    const first = gate();
    const coalescer = new Coalescer<number, number>(async (items) => {
      if (calls.push(items) === 1) await first.opened;
      return items;
    }, { maxItems: 2, maxCalls: 2 });
    const all = [1, 2, 3, 4].map((n) => coalescer.submit(n));
    await expect(Promise.all(all.slice(2))).resolves.toEqual([3, 4]);
    expect(calls).toEqual([[1, 2], [3, 4]]);
    first.open();
    await expect(Promise.all(all)).resolves.toEqual([1, 2, 3, 4]);
  });

  it('rejects an item that waited longer than maxWaitMs behind a stuck call, as a dependency that is down, and never sends it', async () => {
    const calls: string[][] = [];
    const stuck = gate();
    const coalescer = new Coalescer<string, string>(async (items) => {
      calls.push(items);
      await stuck.opened;
      return items;
    }, { maxItems: 10, maxCalls: 1, maxWaitMs: 40 });
    const sent = coalescer.submit('a');
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    const waiting = coalescer.submit('b');
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoalescerWaitTimeout);
    expect(isDependencyDown(error as Error)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    stuck.open();
    await expect(sent).resolves.toBe('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([['a']]);
  });
});

describe('rowsByOrdinal', () => {
  it('puts each row at its item\'s position, whatever order PostgreSQL returned them in; an item without a row gets none', () => {
    const rows = [{ n: 3, id: 'c' }, { n: 1, id: 'a' }];
    expect(rowsByOrdinal(rows, 4)).toEqual([{ n: 1, id: 'a' }, undefined, { n: 3, id: 'c' }, undefined]);
  });
});
