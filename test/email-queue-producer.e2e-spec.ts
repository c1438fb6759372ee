import Bull, { Queue } from 'bull';
import Redis from 'ioredis';
import { AppConfig } from 'src/config/app-config';
import { EmailQueueProducer } from 'src/notifications/email-queue.producer';
import { SEND_EMAIL_JOB } from 'src/notifications/queue.constants';

type Command = { name: string; args: unknown[] };
const ID = '6f1c7a52-3d0e-4f3b-9a57-0b8c2f1d9e40';

/**
 * The producer against a real Redis, with no worker of its own: the tests play the worker's part by hand, at the
 * moments a real one could act.
 */
describe('Email queue producer: one live job per row (e2e)', () => {
  let queue: Queue;
  let producer: EmailQueueProducer;
  let worker: Redis;
  const key = (name: string) => (queue as unknown as { toKey(name: string): string }).toKey(name);
  const list = (name: string) => queue.client.lrange(key(name), 0, -1);

  beforeEach(async () => {
    queue = new Bull(`producer-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, process.env.REDIS_URL!, { prefix: process.env.QUEUE_PREFIX });
    await queue.isReady();
    if (queue.client.status !== 'ready') await new Promise((resolve) => queue.client.once('ready', resolve));
    worker = queue.client.duplicate();
    const config = new AppConfig({ NOTIFY_MAX_ATTEMPTS: 3, NOTIFY_BACKOFF_MS: 100 } as unknown as AppConfig['env']);
    producer = new EmailQueueProducer(queue, config);
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    worker.disconnect();
  });

  it('leaves alone a job a worker takes while the producer is looking at it (taken, not yet locked)', async () => {
    await producer.enqueue([ID]);
    // A worker that found the queue empty takes its next job with BRPOPLPUSH (wait → active) and locks it with its
    // next command. Here the worker takes it just as the producer first asks about the wait list: a reader asking
    // list by list then finds the job in none, and its lock not yet there.
    const client = queue.client as unknown as { sendCommand(command: Command): unknown };
    const send = client.sendCommand.bind(client);
    let taken = false;
    client.sendCommand = (command: Command) => {
      if (!taken && command.args.some((arg) => String(arg) === key('wait'))) {
        taken = true;
        return worker.rpoplpush(key('wait'), key('active')).then(() => send(command));
      }
      return send(command);
    };

    await producer.enqueue([ID]);

    expect(taken).toBe(true);
    expect(await list('active')).toEqual([ID]);
    expect(await list('wait')).toEqual([]);
    expect((await queue.getJob(ID))?.data).toEqual({ notificationId: ID });
  });

  it('leaves alone a waiting, running or delayed job', async () => {
    await producer.enqueue([ID]);
    await producer.enqueue([ID]);
    expect(await list('wait')).toEqual([ID]);

    await worker.multi().rpoplpush(key('wait'), key('active')).set(`${key(ID)}:lock`, 'a-worker', 'PX', 60_000).exec();
    await producer.enqueue([ID]);
    expect(await list('active')).toEqual([ID]);
    expect(await list('wait')).toEqual([]);

    await worker.multi().lrem(key('active'), 0, ID).del(`${key(ID)}:lock`).zadd(key('delayed'), Date.now() + 60_000, ID).exec();
    await producer.enqueue([ID]);
    expect(await queue.client.zrange(key('delayed'), 0, -1)).toEqual([ID]);
    expect(await list('wait')).toEqual([]);
  });

  it('replaces a job kept in the failed set, or one lost from every list, with a waiting one', async () => {
    await producer.enqueue([ID]);
    await worker.multi().lrem(key('wait'), 0, ID).zadd(key('failed'), Date.now(), ID).exec();
    await producer.enqueue([ID]);
    expect(await queue.client.zrange(key('failed'), 0, -1)).toEqual([]);
    expect(await list('wait')).toEqual([ID]);

    await worker.lrem(key('wait'), 0, ID); // the hash is left, in no list: a job nothing will ever run
    await producer.enqueue([ID]);
    expect(await list('wait')).toEqual([ID]);
    const job = await queue.getJob(ID);
    expect([job?.name, job?.data]).toEqual([SEND_EMAIL_JOB, { notificationId: ID }]);
  });
});
