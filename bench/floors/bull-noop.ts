import Bull from 'bull';

export type BullFloor = { jobs: number; concurrency: number; seconds: number; rate: number };

/**
 * Raw Bull throughput on the service's Redis: `jobs` no-op jobs (added first, not timed) processed at the email
 * processor's concurrency. The queue lives under the bench prefix and is obliterated afterwards.
 */
export async function bullNoopFloor(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<BullFloor> {
  const queue = new Bull(`noop-floor-${process.pid}`, redisUrl, { prefix });
  try {
    await queue.obliterate({ force: true });
    for (let at = 0; at < jobs; at += 1000) {
      const size = Math.min(1000, jobs - at);
      await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'noop', data: { n: at + k }, opts: { removeOnComplete: true, removeOnFail: true } })));
    }
    let done = 0;
    let started = 0;
    const finished = new Promise<void>((resolve) => {
      queue.on('global:completed', () => undefined);
      queue.on('completed', () => {
        if (++done === jobs) resolve();
      });
    });
    started = performance.now();
    void queue.process('noop', concurrency, async () => undefined);
    await finished;
    const seconds = (performance.now() - started) / 1000;
    return { jobs, concurrency, seconds, rate: jobs / seconds };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
