import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * A worker's background pass (emptying old emails, sweeping orphaned files): first after `firstAfterMs`, then
 * `everyMs` after each pass ends, so passes never overlap. A failed pass goes to `onError` and the next one comes on
 * schedule. The timer does not keep the process alive; stop() cancels what is scheduled and waits for a pass under way,
 * whose loops should give up between batches once `stopped` says so.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private isStopped = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly schedule: { firstAfterMs: number; everyMs: number; onError: (error: unknown) => void },
  ) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  start(): void {
    this.next(this.schedule.firstAfterMs);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private next(delay: number): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch(this.schedule.onError)
        .finally(() => this.next(this.schedule.everyMs));
    }, delay);
    this.timer.unref();
  }
}

/** A service whose `task` starts when the application has started and stops (waiting for a pass under way) on shutdown. */
export abstract class RunsPeriodically implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly task: PeriodicTask;

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }
}
