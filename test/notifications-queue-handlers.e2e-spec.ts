import Bull from 'bull';
import { registerJobHandlers } from 'src/notifications/queue-handlers';
import { waitUntil } from 'test/support/wait-until';

/** Against the real Redis: Bull's own promises must not escape as unhandled rejections (a crash under Node's default). */
describe('Registering queue handlers (e2e)', () => {
  let queue: Bull.Queue;
  beforeEach(async () => {
    queue = new Bull(`handlers-${process.pid}-${Date.now()}`, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix: 'sprout-test' });
    await queue.isReady();
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('reports, rather than leaves unhandled, a worker-naming command cut off by a closing connection', async () => {
    // What a shutdown does to the blocking connection when it lands just as Redis comes back (OptimalBits/bull#1141).
    (queue as unknown as { bclient: { disconnect(): void } }).bclient.disconnect();
    const naming: string[] = [];
    registerJobHandlers(queue, [{ name: 'a', concurrency: 1, handle: async () => undefined }, { name: 'b', concurrency: 2, handle: async () => undefined }], {
      naming: (error) => naming.push(error.message),
      stopped: () => undefined, // the run loop cannot start on the cut connection either; not what this is about
    });
    // Jest fails this test if a rejection goes unhandled meanwhile.
    await waitUntil(() => naming.length === 2, 5000);
    await new Promise((r) => setTimeout(r, 100)); // room for a stray rejection to surface
    expect(naming).toEqual(['Connection is closed.', 'Connection is closed.']);
  });

  it('runs each job with its own handler', async () => {
    const ran: string[] = [];
    registerJobHandlers(
      queue,
      [
        { name: 'a', concurrency: 1, handle: async (job) => ran.push(`a:${job.data.n}`) },
        { name: 'b', concurrency: 3, handle: async (job) => ran.push(`b:${job.data.n}`) },
      ],
      { naming: (error) => { throw error; }, stopped: (_, error) => { throw error; } },
    );
    await queue.add('a', { n: 1 });
    await queue.add('b', { n: 2 });
    await waitUntil(() => ran.length === 2, 5000);
    expect(ran.sort()).toEqual(['a:1', 'b:2']);
  });
});
