import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { EmailQueueProducer } from 'src/notifications/email-queue.producer';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

const BATCH = 200;

/**
 * Worker-side loop that moves committed outbox rows into Bull. Rows are locked with SKIP LOCKED so any number
 * of workers share the work; if Redis is away or slow the transaction rolls back and the rows stay `pending`
 * for the next pass. The sweeper re-drives rows left `queued`/`failed` longer than OUTBOX_STUCK_AFTER_SECONDS
 * (their job was lost with Redis, or ended in Bull's failed set); a row whose job is still live is left alone.
 * Each time Redis (re)connects, every row already in flight is checked at once instead of after that age: a
 * Redis that restarted empty has lost their jobs, and families should not wait ten minutes for that to be noticed.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelayService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastSweep = 0;
  /**
   * Set when Redis (re)connected: rows in flight at that moment are re-driven without waiting. Set at start too: Bull's
   * client has usually connected before this service's bootstrap, and its first 'ready' is missed — rows a worker left
   * `queued` when it stopped with a Redis that comes back empty would otherwise wait for the sweeper.
   */
  private reconnected = true;
  private failingSince: number | null = null;

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly producer: EmailQueueProducer,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.producer.onConnected(() => (this.reconnected = true));
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = null));
    }, delay);
  }

  private async tick(): Promise<void> {
    let moved = 0;
    try {
      moved = await this.relayOnce();
      if (this.reconnected) {
        // Cleared first: a reconnection during the re-drive asks for another.
        this.reconnected = false;
        await this.redriveInFlight().catch((error: unknown) => {
          this.reconnected = true;
          throw error;
        });
      }
      if (Date.now() - this.lastSweep > this.sweepEveryMs()) {
        this.lastSweep = Date.now();
        await this.sweepOnce();
      }
      if (this.failingSince !== null) this.logger.log(`outbox relay resumed after ${Math.round((Date.now() - this.failingSince) / 1000)} s`);
      this.failingSince = null;
    } catch (error) {
      // Logged once per outage, not once per poll.
      if (this.failingSince === null) this.logger.warn(`outbox relay paused, emails stay in the outbox: ${(error as Error).message}`);
      this.failingSince ??= Date.now();
    }
    this.schedule(moved === BATCH ? 0 : this.config.env.OUTBOX_POLL_MS);
  }

  private sweepEveryMs(): number {
    return Math.min(60_000, this.config.env.OUTBOX_STUCK_AFTER_SECONDS * 500);
  }

  /** One pass: up to BATCH committed `pending` rows into Bull, then `queued`. Returns how many moved. */
  async relayOnce(): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const rows = (await tx.query(
        `SELECT id FROM notifications WHERE status = 'pending' ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      )) as { id: string }[];
      if (!rows.length) return 0;
      const ids = rows.map((r) => r.id);
      await this.producer.enqueue(ids);
      await tx.query(
        `UPDATE notifications SET status = 'queued', queued_at = now(), updated_at = now() WHERE id = ANY($1) AND status = 'pending'`,
        [ids],
      );
      return ids.length;
    });
  }

  /**
   * Re-drives rows `queued`/`failed` last touched before `olderThan` (default: OUTBOX_STUCK_AFTER_SECONDS ago, by the
   * database's clock). Touching updated_at keeps them out of the next sweeps. Returns how many rows it looked at.
   */
  async sweepOnce(olderThan?: Date): Promise<number> {
    const [cutoff, params] = olderThan
      ? ['$1::timestamptz', [olderThan.toISOString()]]
      : ['now() - make_interval(secs => $1)', [this.config.env.OUTBOX_STUCK_AFTER_SECONDS]];
    return this.dataSource.transaction(async (tx) => {
      const rows = (await tx.query(
        `SELECT id FROM notifications
          WHERE status IN ('queued', 'failed') AND updated_at < ${cutoff}
          ORDER BY updated_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        params,
      )) as { id: string }[];
      if (!rows.length) return 0;
      const ids = rows.map((r) => r.id);
      await this.producer.enqueue(ids);
      await tx.query(`UPDATE notifications SET updated_at = now() WHERE id = ANY($1)`, [ids]);
      this.logger.log(`outbox sweeper checked ${ids.length} in-flight notification(s)`);
      return ids.length;
    });
  }

  /** Every row in flight when Redis came back, in batches; the cutoff is the database's clock, like updated_at. */
  private async redriveInFlight(): Promise<void> {
    const [{ now }] = (await this.dataSource.query(`SELECT now() AS now`)) as { now: Date }[];
    for (let pass = 0; pass < 100 && (await this.sweepOnce(now)) === BATCH; pass++);
  }
}
