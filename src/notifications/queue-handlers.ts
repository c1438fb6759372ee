import type { Job, Queue } from 'bull';

export type JobHandler = { name: string; concurrency: number; handle: (job: Job) => Promise<unknown> };

export type HandlerFailures = {
  /** The handlers stopped taking jobs (Bull's run loop failed). */
  stopped(name: string, error: Error): void;
  /** Naming the worker's Redis connection failed; jobs are still taken. */
  naming(error: Error): void;
};

type NamedQueue = Queue & { setWorkerName(): Promise<void> };

/**
 * Registers the queue's job handlers. Bull's process() also names the worker's blocking Redis connection, and drops
 * that command's promise (OptimalBits/bull#1141): a close that cut the command off — Redis returning just before a
 * shutdown — was an unhandled rejection, which Node turns into a crash. Here that rejection is caught and reported.
 */
export function registerJobHandlers(queue: Queue, handlers: JobHandler[], failures: HandlerFailures): void {
  const named = queue as NamedQueue;
  const setWorkerName = named.setWorkerName.bind(named);
  named.setWorkerName = () => setWorkerName().catch((error: Error) => failures.naming(error));
  for (const { name, concurrency, handle } of handlers) {
    queue.process(name, concurrency, handle).catch((error: Error) => failures.stopped(name, error));
  }
}
