import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { MailerService, SentMail } from 'src/notifications/mailer.service';
import { Notification } from 'src/notifications/notification.entity';
import { RenderedEmail, TemplateRenderer } from 'src/notifications/templates/template-renderer';
import type { TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';

export type DeliveryOutcome = 'sent' | 'skipped' | 'dead';

/** Context keys that are secrets: needed to render once, scrubbed from the row once the message is sent. */
const SECRET_CONTEXT_KEYS = ['token', 'verifyUrl', 'acceptUrl', 'resetUrl'];
const OPEN_STATUSES = `('pending', 'queued', 'failed')`;
/** Tries at recording a send: a duplicate email is what a failure here costs. */
const MARK_SENT_TRIES = 5;

@Injectable()
export class EmailDeliveryService {
  private readonly logger = new Logger(EmailDeliveryService.name);
  private readonly renderer: TemplateRenderer;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly mailer: MailerService,
    config: AppConfig,
  ) {
    this.renderer = new TemplateRenderer(resolve(config.env.TEMPLATES_DIR));
  }

  /**
   * Sends one outbox row. Re-reads the row, so a replayed or duplicated job never sends a sent message again.
   * Throws only for a transient failure that Bull should retry; permanent failures end as `dead`.
   */
  async deliver(id: string, isLastAttempt: boolean): Promise<DeliveryOutcome> {
    const row = await this.dataSource.getRepository(Notification).findOneBy({ id });
    if (!row || row.status === 'sent' || row.status === 'dead') return 'skipped';

    let rendered: RenderedEmail;
    try {
      rendered = this.renderer.render(row.template as TemplateName, row.locale, row.context as unknown as TemplateContexts[TemplateName]);
    } catch (error) {
      await this.markFailed(row, error, true); // a template or context bug: retrying renders the same
      return 'dead';
    }

    let sent: SentMail;
    try {
      sent = await this.mailer.send({ to: row.toEmail, ...rendered, notificationId: row.id });
    } catch (error) {
      const dead = isPermanent(error) || isLastAttempt;
      await this.markFailed(row, error, dead);
      if (dead) return 'dead';
      throw error;
    }
    // The server has the message. From here until the row says so, a crash means the email goes out twice.
    await this.markSent(row, sent);
    return 'sent';
  }

  private async markSent(row: Notification, sent: SentMail): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.query(
          `UPDATE notifications SET status = 'sent', sent_at = now(), message_id = $2, smtp_response = $3, attempts = attempts + 1,
                  last_error = NULL, context = $4, updated_at = now()
            WHERE id = $1 AND status IN ${OPEN_STATUSES}`,
          [row.id, sent.messageId, sent.response, JSON.stringify(scrub(row.context))],
        );
        return;
      } catch (error) {
        if (attempt >= MARK_SENT_TRIES) throw error;
        this.logger.warn({ notificationId: row.id, error: describe(error) }, 'recording a sent email failed; trying again');
        await sleep(200 * 2 ** attempt);
      }
    }
  }

  private async markFailed(row: Notification, error: unknown, dead: boolean): Promise<void> {
    const message = describe(error);
    // SMTP replies often quote the recipient; the row keeps the reply for admins, the log does not.
    this.logger.warn({ notificationId: row.id, template: row.template, dead, error: withoutAddresses(message) }, 'email delivery failed');
    await this.dataSource.query(
      `UPDATE notifications SET status = $2, attempts = attempts + 1, last_error = $3, updated_at = now()
        WHERE id = $1 AND status IN ${OPEN_STATUSES}`,
      [row.id, dead ? 'dead' : 'failed', message],
    );
  }
}

/**
 * SMTP 5xx is a permanent refusal (unknown mailbox, policy): retrying only repeats it. So is an envelope the
 * client itself refuses (no valid recipient). 4xx replies and network errors (timeouts, resets) are transient.
 */
export function isPermanent(error: unknown): boolean {
  const e = error as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number') return e.responseCode >= 500 && e.responseCode < 600;
  return e.code === 'EENVELOPE';
}

export function describe(error: unknown): string {
  const e = error as { responseCode?: number; code?: string; message?: string };
  return [e.responseCode, e.code, e.message].filter(Boolean).join(' ').slice(0, 500) || 'unknown error';
}

export function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>@"']+@[^\s<>@"']+/g, '<address>');
}

function scrub(context: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...context };
  for (const key of SECRET_CONTEXT_KEYS) if (key in copy) copy[key] = '[sent]';
  return copy;
}
