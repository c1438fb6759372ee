import { PeriodicTask } from 'src/common/scheduling/periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs first after firstAfterMs, then everyMs after each pass ends, reporting a failed pass and going on', async () => {
    const starts: number[] = [];
    const errors: unknown[] = [];
    const failure = new Error('database gone');
    const task = new PeriodicTask(
      async () => {
        starts.push(Date.now());
        if (starts.length === 2) throw failure;
      },
      { firstAfterMs: 1_000, everyMs: 5_000, onError: (error) => errors.push(error) },
    );
    const t0 = Date.now();
    task.start();
    await jest.advanceTimersByTimeAsync(999);
    expect(starts).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(starts.map((at) => at - t0)).toEqual([1_000, 6_000, 11_000]);
    expect(errors).toEqual([failure]);
    await task.stop();
  });

  it('stop() waits for the pass under way, which sees `stopped`, and nothing runs after it', async () => {
    let release!: () => void;
    let sawStopped: boolean | undefined;
    let passes = 0;
    const task: PeriodicTask = new PeriodicTask(
      async () => {
        passes++;
        await new Promise<void>((resolve) => (release = resolve));
        sawStopped = task.stopped;
      },
      { firstAfterMs: 10, everyMs: 10, onError: () => undefined },
    );
    task.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(passes).toBe(1);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(sawStopped).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(passes).toBe(1);
  });
});
