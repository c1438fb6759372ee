import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { AppConfig } from 'src/config/app-config';
import { pageByCreatedAt } from 'src/common/pagination/created-at-page';
import { decodeCursor, Page } from 'src/common/pagination/pagination';
import { ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { deliveryStatus, NotificationDto, NotificationQueryDto } from 'src/notifications/dto/notification.dto';
import { OutboxCountsDto, QueueOverviewDto, QueueStateDto } from 'src/notifications/dto/queue-overview.dto';
import { EmailQueueProducer } from 'src/notifications/email-queue.producer';
import { Notification, NotificationStatus } from 'src/notifications/notification.entity';
import { NotificationExpiredException, NotificationNotDeadException } from 'src/notifications/notifications.exceptions';

const STATUSES: NotificationStatus[] = ['pending', 'queued', 'sent', 'failed', 'dead'];

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    @InjectRepository(Notification) private readonly notifications: Repository<Notification>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: EmailQueueProducer,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async list(query: NotificationQueryDto): Promise<Page<NotificationDto>> {
    const after = decodeCursor(query.cursor, 'timestamp');
    const qb = this.notifications.createQueryBuilder('n').orderBy('n.created_at', 'DESC').addOrderBy('n.id', 'DESC').limit(query.limit + 1);
    if (query.status) qb.andWhere('n.status IN (:...statuses)', { statuses: query.status === 'pending' ? ['pending', 'queued'] : [query.status] });
    if (after) qb.andWhere('(n.created_at, n.id) < (:k::timestamptz, :id::uuid)', { k: after.k, id: after.id });
    return pageByCreatedAt(qb, 'n', query.limit, NotificationDto.from);
  }

  /**
   * Puts a dead notification back into the outbox; the relay re-queues it like a new one (removing a job with
   * the same id that Bull may still keep in its failed set). Works while Redis is down: only the row changes.
   */
  async retry(id: string, actor: AuthUser): Promise<NotificationDto> {
    return this.dataSource.transaction(async (tx) => {
      const row = await tx.findOne(Notification, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw new ResourceNotFoundException('Notification');
      if (row.status !== 'dead') throw new NotificationNotDeadException(deliveryStatus(row.status));
      if (Object.keys(row.context).length === 0) throw new NotificationExpiredException(this.config.env.OUTBOX_RETENTION_DAYS);
      // An admin's retry (the recipient says it never came) gets the sends a new email gets, also after unconfirmed ones.
      await tx.update(Notification, { id }, { status: 'pending', queuedAt: null, sendingUntil: null, unconfirmedSends: 0 });
      const summary = { template: row.template, unconfirmedSends: row.unconfirmedSends };
      await this.audit.record(tx, { actor, action: 'notification.retry', objectType: 'notification', objectId: id, summary });
      return NotificationDto.from({ ...row, status: 'pending', queuedAt: null, unconfirmedSends: 0 });
    });
  }

  async queueOverview(): Promise<QueueOverviewDto> {
    const [queue, outbox] = await Promise.all([this.queueState(), this.outboxCounts()]);
    return { queues: [queue], ...outbox };
  }

  private async queueState(): Promise<QueueStateDto> {
    try {
      return { ...(await this.producer.overview()), available: true };
    } catch (error) {
      this.logger.warn(`queue overview without Redis: ${(error as Error).message}`);
      return { name: this.producer.queueName, available: false, counts: null, repeatable: [] };
    }
  }

  private async outboxCounts(): Promise<{ outbox: OutboxCountsDto; oldestOpenAt: string | null }> {
    const rows = (await this.dataSource.query(
      `SELECT status, count(*)::int AS n, min(created_at) FILTER (WHERE status IN ('pending', 'queued', 'failed')) AS oldest
         FROM notifications GROUP BY status`,
    )) as { status: NotificationStatus; n: number; oldest: Date | null }[];
    const outbox = Object.fromEntries(STATUSES.map((s) => [s, 0])) as unknown as OutboxCountsDto;
    let oldest: Date | null = null;
    for (const row of rows) {
      outbox[row.status] = row.n;
      if (row.oldest && (!oldest || row.oldest < oldest)) oldest = row.oldest;
    }
    return { outbox, oldestOpenAt: oldest?.toISOString() ?? null };
  }
}
