import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { SqlPart } from 'src/database/statement-parts';
import { Notification } from 'src/notifications/notification.entity';
import type { TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';
import type { Locale } from 'src/users/user.entity';

export type Recipient = { email: string; userId?: string | null; locale: Locale };

export type OutgoingEmail<N extends TemplateName> = {
  /** What happened, for the delivery log (`application.approved`). */
  event: string;
  template: N;
  to: Recipient;
  /** Stored as jsonb until sent: ids, names, amounts (fen) and links; no diagnosis, national id or other medical detail. */
  context: TemplateContexts[N];
};

/**
 * The one way any module sends email: a row written with the caller's transaction manager, so the email
 * exists if and only if the change that causes it commits. The worker's relay takes it from there.
 */
@Injectable()
export class OutboxService {
  /** Returns the new row's id. */
  async enqueue<N extends TemplateName>(tx: EntityManager, email: OutgoingEmail<N>): Promise<string> {
    return (await this.insert(tx, email, null)) as string;
  }

  /** What enqueue() writes, as a statement for a caller that writes it together with its other rows (writeTogether). */
  insertOf<N extends TemplateName>(email: OutgoingEmail<N>): SqlPart {
    return {
      sql: `INSERT INTO notifications (event, template, to_email, user_id, locale, context, status, attempts) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0)`,
      params: [email.event, email.template, email.to.email, email.to.userId ?? null, email.to.locale, JSON.stringify(email.context)],
    };
  }

  /** Like enqueue, but a second call with the same key writes nothing and returns null (scheduled emails). */
  enqueueOnce<N extends TemplateName>(tx: EntityManager, dedupKey: string, email: OutgoingEmail<N>): Promise<string | null> {
    return this.insert(tx, email, dedupKey);
  }

  private async insert(tx: EntityManager, email: OutgoingEmail<TemplateName>, dedupKey: string | null): Promise<string | null> {
    const row = {
      event: email.event,
      template: email.template,
      toEmail: email.to.email,
      userId: email.to.userId ?? null,
      locale: email.to.locale,
      context: email.context as object,
      status: 'pending',
      attempts: 0,
      dedupKey,
    } as QueryDeepPartialEntity<Notification>;
    const insert = tx.createQueryBuilder().insert().into(Notification).values(row).returning(['id']);
    if (dedupKey) insert.orIgnore();
    const result = await insert.execute();
    return (result.raw as { id: string }[])[0]?.id ?? null;
  }
}
