import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { sha256 } from 'src/auth/secret-token';
import type { Role } from 'src/common/auth/roles';
import { AppConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';
import { Coalescer } from 'src/common/batching/coalescer';
import { MailerService, SentMail, UnconfirmedSendError } from 'src/notifications/mailer.service';
import type { Notification } from 'src/notifications/notification.entity';
import { RenderedEmail, TemplateRenderer } from 'src/notifications/templates/template-renderer';
import { LOCALES, TEMPLATE_NAMES, TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';
import { TemplateNotFoundError } from 'src/notifications/templates/template-render.error';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

export type DeliveryOutcome = 'sent' | 'skipped' | 'dead';

type OutboxRow = Pick<Notification, 'id' | 'template' | 'toEmail' | 'locale' | 'context' | 'status' | 'unconfirmedSends'> & {
  recipient: Recipient | null;
  /**
   * The end of this send's claim on the row, its token: in ISO 8601 to the microsecond (a Date keeps milliseconds and
   * would match no claim), whatever the session's DateStyle and TimeZone. Null: not claimed.
   */
  claimedUntil: string | null;
};
/** The recipient's account as it is at sending time (null: the email was addressed to no account). */
export type Recipient = { disabled: boolean; role: Role; hospitalId: string | null };

/** Emails written for a staff role: sent only while the recipient still has it (and, for a hospital's, that hospital). */
const STAFF_TEMPLATES: Partial<Record<TemplateName, Role | readonly Role[]>> = {
  'reviewer-digest': 'reviewer',
  // Admins may review too, and ask the family a question.
  'info-answered': ['reviewer', 'admin'],
  'tranche-paid-hospital': 'hospital_finance',
  'tranche-cancelled-hospital': 'hospital_finance',
  'tranche-returned-hospital': 'hospital_finance',
  // Fund finance too when the bank took money back from the fund's payments.
  'reconciliation-exceptions': ['hospital_finance', 'fund_finance'],
  'payees-outdated': 'fund_finance',
  'bank-account-changed': ['hospital_finance', 'fund_finance'],
};
const ROLE_NAMES: Partial<Record<Role, string>> = { reviewer: 'a reviewer', admin: 'an admin', hospital_finance: 'in hospital finance', fund_finance: 'in fund finance' };

/**
 * Why an email may no longer go to its recipient, or null. It was addressed when written, but it may wait hours
 * (retries through an SMTP outage) or days (an admin's retry of a dead one): an account disabled meanwhile gets no
 * email (a leaver's mailbox, a closed account), and a staff email goes only to someone still in the role and hospital
 * it was written for — a hospital's payments are not news for a finance officer moved to another hospital.
 */
export function recipientGone(template: string, context: Record<string, unknown>, recipient: Recipient | null): string | null {
  if (!recipient) return null;
  if (recipient.disabled) return "the recipient's account was disabled before it could be sent";
  const roles: readonly Role[] = [STAFF_TEMPLATES[template as TemplateName] ?? []].flat();
  if (roles.length && !roles.includes(recipient.role)) return `the recipient is no longer ${roles.map((role) => ROLE_NAMES[role]).join(' or ')}`;
  if (recipient.role === 'hospital_finance' && roles.includes('hospital_finance') && typeof context.hospitalId === 'string' && context.hospitalId !== recipient.hospitalId) {
    return "the recipient no longer works for the hospital it is about";
  }
  return null;
}
type SentRecord = { id: string; sent: SentMail; context: Record<string, unknown> };

/** Context keys that are secrets: needed to render once, scrubbed from the row once the message is sent. */
const SECRET_CONTEXT_KEYS = ['token', 'verifyUrl', 'acceptUrl', 'resetUrl'];
const OPEN_STATUSES = `('pending', 'queued', 'failed')`;
/**
 * The other two statuses (the table's CHECK allows exactly these five). The batch UPDATE says "NOT IN closed" because
 * "IN open" lets the planner drive the join from the status index, which it believes selective (almost every row is
 * sent) — so each batch walked every queued row: in a burst of 10,000 emails that made batching slower than one UPDATE
 * per email (bench, 166 vs 231 emails/s). NOT IN cannot use that index; the join goes through the primary key.
 */
const CLOSED_STATUSES = `('sent', 'dead')`;
/** Records a batch of sends: $1 ids, $2 Message-IDs, $3 SMTP replies, $4 scrubbed contexts (null = unchanged). */
export const RECORD_SENT_SQL = `UPDATE notifications SET status = 'sent', sent_at = now(), message_id = s.message_id, smtp_response = s.smtp_response,
        attempts = notifications.attempts + 1, last_error = NULL, context = COALESCE(s.context, notifications.context), sending_until = NULL, updated_at = now()
   FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) AS s(id, message_id, smtp_response, context)
  WHERE notifications.id = s.id AND notifications.status NOT IN ${CLOSED_STATUSES}`;
/**
 * Reads a batch of rows ($1 ids) and claims, for $2 seconds, each one still open that no other send holds. Only a send
 * that claimed its row talks to the SMTP server: however a second job for a row came about (re-added by a re-drive,
 * handed out again by the queue), it finds the claim and does not send the email a second time meanwhile. The rows are
 * locked in id order, so two batches sharing rows wait for each other instead of deadlocking; "NOT IN closed" for the
 * reason given at CLOSED_STATUSES. The SELECT reads the rows as they were when the statement began, the claim as it
 * now is (`claimedUntil` is null unless this statement claimed the row). The claim lasts one Bull lock from when it is
 * taken and is not renewed: a send still going after that (the mailer warns when the lock is under 3 × SMTP_TIMEOUT_MS)
 * no longer holds off a second job.
 */
export const CLAIM_ROWS_SQL = `WITH claimed AS (
   UPDATE notifications SET sending_until = now() + make_interval(secs => $2::float8)
    WHERE id IN (SELECT id FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
      AND status NOT IN ${CLOSED_STATUSES} AND (sending_until IS NULL OR sending_until <= now())
   RETURNING id, status, sending_until)
 SELECT n.id, n.template, n.to_email AS "toEmail", n.locale, n.context, COALESCE(c.status, n.status) AS status, n.unconfirmed_sends AS "unconfirmedSends", to_json(c.sending_until) #>> '{}' AS "claimedUntil",
        u.id IS NOT NULL AS has_recipient, u.disabled_at IS NOT NULL AS recipient_disabled, u.role AS recipient_role, u.hospital_id AS recipient_hospital_id
   FROM notifications n LEFT JOIN claimed c ON c.id = n.id LEFT JOIN users u ON u.id = n.user_id
  WHERE n.id = ANY($1::uuid[])`;

/** Ends a claim ($1 row id) if it is still the one taken ($2, its claimedUntil). */
export const RELEASE_CLAIM_SQL = `UPDATE notifications SET sending_until = NULL WHERE id = $1 AND sending_until = $2::timestamptz`;

/**
 * Another send holds the row's claim: the job fails for now and its retry finds the email sent, or the claim run out
 * (its worker died before the server had the message, or before the row said so).
 */
export class SendingElsewhereError extends Error {
  constructor(id: string) {
    super(`notification ${id} is being sent by another job; this one tries again later`);
  }
}
/**
 * Sends that may have reached the recipient (the connection lost after the whole message, see UnconfirmedSendError)
 * before the row is dead instead of tried again: a server that keeps dropping the connection after taking the message
 * would otherwise deliver it once per attempt (NOTIFY_MAX_ATTEMPTS, 8 by default). The first such failure is retried,
 * as a connection lost once proves little.
 */
export const UNCONFIRMED_SENDS_LIMIT = 2;
/** Longest pause between tries at recording a send. */
const MARK_SENT_MAX_PAUSE_MS = 2000;
/** Sends whose record failed, remembered so that this process records rather than resends them; bounded. */
const UNRECORDED_LIMIT = 10_000;
/** Most rows one statement reads or records, and most such statements running at once (of the pool's connections). */
const BATCHES = { maxItems: 500, maxCalls: 2 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type RowRead = Omit<OutboxRow, 'recipient'> & {
  has_recipient: boolean;
  recipient_disabled: boolean;
  recipient_role: string | null;
  recipient_hospital_id: string | null;
};

@Injectable()
export class EmailDeliveryService {
  private readonly logger = new Logger(EmailDeliveryService.name);
  private readonly renderer: TemplateRenderer;
  /** How long a send keeps trying to record itself: the job's Bull lock, after which another worker may take it. */
  private readonly recordForMs: number;
  private readonly unrecorded = new Map<string, SentMail>();
  /**
   * The rows of the jobs that start while a claim is running are claimed together, and the sends that finish while a
   * record is running are recorded together: two statements per batch instead of two per email. Each job still
   * waits for its own row's record to commit before it completes, as with one UPDATE per email.
   */
  private readonly claims: Coalescer<string, OutboxRow | undefined>;
  private readonly records: Coalescer<SentRecord, void>;

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly mailer: MailerService,
    config: AppConfig,
  ) {
    this.renderer = new TemplateRenderer(resolve(config.env.TEMPLATES_DIR), { inlineCss: 'compiled', fundContact: config.env.FUND_CONTACT });
    this.recordForMs = config.env.QUEUE_LOCK_DURATION_MS;
    // As long as a job may wait for a pooled connection: behind statements stuck on an unreachable database, every
    // sending slot would otherwise wait with them.
    const batches = { ...BATCHES, maxWaitMs: config.env.DATABASE_ACQUIRE_TIMEOUT_MS };
    this.claims = new Coalescer((ids) => this.claimRows(ids), batches);
    this.records = new Coalescer((records) => this.recordSent(records), batches);
  }

  /**
   * Renders every template in every locale once (with its sample context): a worker whose TEMPLATES_DIR is wrong or
   * incomplete refuses to start, naming each file, instead of failing every email while it reads as ready.
   */
  checkTemplates(): void {
    const problems: string[] = [];
    for (const locale of LOCALES) {
      for (const name of TEMPLATE_NAMES) {
        try {
          this.renderer.render(name, locale, SAMPLE_TEMPLATE_CONTEXTS[name] as TemplateContexts[TemplateName]);
        } catch (error) {
          problems.push(`TEMPLATES_DIR: ${(error as Error).message}`);
        }
      }
    }
    if (problems.length) throw new ConfigValidationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }

  /**
   * Sends one outbox row. Claims the row first (one statement with the rows of the jobs starting meanwhile), so a
   * replayed or duplicated job never sends a sent message again, nor one another worker is sending now.
   * Throws only for a transient failure that Bull should retry; permanent failures end as `dead`.
   */
  async deliver(id: string, isLastAttempt: boolean): Promise<DeliveryOutcome> {
    const row = await this.claims.submit(id);
    if (!row || row.status === 'sent' || row.status === 'dead') {
      this.unrecorded.delete(id);
      return 'skipped';
    }
    if (!row.claimedUntil) throw new SendingElsewhereError(id);
    const alreadySent = this.unrecorded.get(id);
    if (alreadySent) {
      // The server took it on an earlier attempt whose record failed (database down): record it, do not resend.
      await this.markSent(row, alreadySent);
      return 'sent';
    }
    let sent: SentMail | 'dead';
    try {
      sent = await this.trySending(row, isLastAttempt);
    } catch (error) {
      // The server does not have it, or its failure is recorded: the retry need not wait for the claim. (A dead row
      // keeps its claim: nothing sends it again unless an admin retries it, which clears the claim.)
      await this.releaseClaim(row);
      throw error;
    }
    if (sent === 'dead') return 'dead';
    // The server has the message. From here until the row says so, a crash means the email goes out twice; the claim
    // is left to run out, not released.
    await this.markSent(row, sent);
    return 'sent';
  }

  /** Sends the claimed row, or ends it as dead (returns 'dead'). Throws, the row marked failed, when a retry may help. */
  private async trySending(row: OutboxRow, isLastAttempt: boolean): Promise<SentMail | 'dead'> {
    const gone = recipientGone(row.template, row.context, row.recipient);
    if (gone) {
      await this.markFailed(row, new Error(gone), true);
      return 'dead';
    }
    if (linkNearlyExpired(row.context, new Date())) {
      // A retry that outlasted the link (a reset link lasts an hour), or nearly: sending it would only disappoint.
      const reason = `its one-time link expired, or had less than ${LINK_MIN_LEFT_MINUTES} minutes left, before it could be sent; the user must ask for a new one`;
      await this.markFailed(row, new Error(reason), true);
      return 'dead';
    }
    if (await this.linkCancelled(row.context)) {
      // Another of the account's links used, a new password or a disabled account cancelled it while the email
      // waited (an SMTP outage): sent late, it would carry a dead link; to a mistyped invitee's address, an invitation
      // would still invite a stranger.
      await this.markFailed(row, new Error('its one-time link was used or cancelled before it could be sent (another link used, a new password, a disabled account)'), true);
      return 'dead';
    }

    let rendered: RenderedEmail;
    try {
      rendered = this.renderer.render(row.template as TemplateName, row.locale, row.context as unknown as TemplateContexts[TemplateName]);
    } catch (error) {
      // A template or context bug renders the same on every try; a template this worker lacks may be found by another.
      const dead = !(error instanceof TemplateNotFoundError) || isLastAttempt;
      await this.markFailed(row, error, dead);
      if (dead) return 'dead';
      throw error;
    }

    try {
      return await this.mailer.send({ to: row.toEmail, ...rendered, notificationId: row.id });
    } catch (error) {
      if (error instanceof UnconfirmedSendError && row.unconfirmedSends + 1 >= UNCONFIRMED_SENDS_LIMIT) {
        const reason = `the connection failed after the whole message was sent, before the server confirmed it, ${UNCONFIRMED_SENDS_LIMIT} times: the recipient probably has it, so it is not sent again (retry it if they do not; last: ${describe(error.cause)})`;
        await this.markFailed(row, new Error(reason), true, true);
        return 'dead';
      }
      const dead = isPermanent(error) || isLastAttempt;
      await this.markFailed(row, error, dead, error instanceof UnconfirmedSendError);
      if (dead) return 'dead';
      throw error;
    }
  }

  /** Ends this send's claim (only its own: the claim's end is its token), best effort: unreleased, it runs out. */
  private async releaseClaim(row: OutboxRow): Promise<void> {
    try {
      await this.dataSource.query(RELEASE_CLAIM_SQL, [row.id, row.claimedUntil]);
    } catch (error) {
      this.logger.warn({ notificationId: row.id, error: describe(error) }, 'ending a send claim failed; it runs out on its own');
    }
  }

  /**
   * Keeps trying for as long as the job holds its lock (Bull renews it while this runs): giving up early fails the job,
   * and its retry would find the row unsent and send again. Past the lock, the send is remembered in this process.
   */
  private async markSent(row: OutboxRow, sent: SentMail): Promise<void> {
    const giveUpAt = Date.now() + this.recordForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.records.submit({ id: row.id, sent, context: row.context });
        this.unrecorded.delete(row.id);
        return;
      } catch (error) {
        const pause = markSentPauseMs(attempt);
        if (Date.now() + pause >= giveUpAt) {
          this.remember(row.id, sent);
          throw error;
        }
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn({ notificationId: row.id, attempt, error: describe(error) }, 'recording a sent email failed; trying again');
        }
        await sleep(pause);
      }
    }
  }

  /** Whether the email's one-time link (context.token) is stored as used: taken, or cancelled by a later event. */
  private async linkCancelled(context: Record<string, unknown>): Promise<boolean> {
    if (typeof context.token !== 'string') return false;
    const rows = (await this.dataSource.query(`SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND used_at IS NOT NULL`, [sha256(context.token)])) as unknown[];
    return rows.length > 0;
  }

  /**
   * Reads the rows and claims each open one nobody else holds (see CLAIM_ROWS_SQL). A job id that is not a row id finds
   * no row (and is skipped) instead of failing the whole statement.
   */
  private async claimRows(ids: string[]): Promise<(OutboxRow | undefined)[]> {
    const valid = ids.filter((id) => UUID.test(id));
    const rows = valid.length ? ((await this.dataSource.query(CLAIM_ROWS_SQL, [valid, this.recordForMs / 1000])) as RowRead[]) : [];
    const byId = new Map(
      rows.map(({ has_recipient, recipient_disabled, recipient_role, recipient_hospital_id, ...row }) => [
        row.id,
        { ...row, recipient: has_recipient ? { disabled: recipient_disabled, role: recipient_role as Role, hospitalId: recipient_hospital_id } : null },
      ]),
    );
    const claimedFor = new Set<string>();
    return ids.map((id) => {
      const row = byId.get(id.toLowerCase());
      if (!row?.claimedUntil) return row;
      if (claimedFor.has(row.id)) return { ...row, claimedUntil: null }; // two jobs of one row in one batch: the first has the claim
      claimedFor.add(row.id);
      return row;
    });
  }

  /** One UPDATE for the batch; the context is rewritten only where it held a secret. */
  private async recordSent(records: SentRecord[]): Promise<void[]> {
    await this.dataSource.query(
      RECORD_SENT_SQL,
      [
        records.map((r) => r.id),
        records.map((r) => r.sent.messageId),
        records.map((r) => r.sent.response),
        records.map((r) => scrubbed(r.context)),
      ],
    );
    return records.map(() => undefined);
  }

  private remember(id: string, sent: SentMail): void {
    if (this.unrecorded.size >= UNRECORDED_LIMIT) this.unrecorded.delete(this.unrecorded.keys().next().value as string);
    this.unrecorded.set(id, sent);
  }

  /** `unconfirmed`: the server may have the message (UnconfirmedSendError), counted on the row. */
  private async markFailed(row: OutboxRow, error: unknown, dead: boolean, unconfirmed = false): Promise<void> {
    const message = describe(error);
    // SMTP replies often quote the recipient; the row keeps the reply for admins, the log does not.
    this.logger.warn({ notificationId: row.id, template: row.template, dead, error: withoutAddresses(message) }, 'email delivery failed');
    await this.dataSource.query(
      `UPDATE notifications SET status = $2, attempts = attempts + 1, last_error = $3, unconfirmed_sends = unconfirmed_sends + $4, updated_at = now()
        WHERE id = $1 AND status IN ${OPEN_STATUSES}`,
      [row.id, dead ? 'dead' : 'failed', message, unconfirmed ? 1 : 0],
    );
  }
}

/**
 * Whether retrying this email can never help. A 5xx reply is permanent only when it is about this message: its
 * recipient (RCPT TO: unknown mailbox) or its content (DATA: refused by policy), or its size; and so is an envelope
 * the client itself refuses (no valid recipient). A 5xx anywhere else is about us and every message alike — a
 * rotated password (AUTH 535), a greeting refusing our address (554), a sender the relay no longer accepts (MAIL
 * FROM 550) — and is retried with backoff like 4xx replies and network errors, so that an operator's fix within the
 * retries' two hours loses no email instead of killing every one sent meanwhile.
 */
export function isPermanent(error: unknown): boolean {
  const e = error as { responseCode?: unknown; code?: unknown; command?: unknown };
  if (e.code === 'EMESSAGE' && e.command === 'MAIL FROM' && typeof e.responseCode !== 'number') return true; // larger than the server's SIZE
  if (typeof e.responseCode === 'number') {
    if (e.responseCode < 500 || e.responseCode >= 600) return false;
    if (e.command === 'RCPT TO' || e.command === 'DATA') return true;
    return e.command === 'MAIL FROM' && e.responseCode === 552; // message size exceeds the server's limit
  }
  return e.code === 'EENVELOPE';
}

/** 400 ms, 800 ms, 1.6 s, then every 2 s. */
export function markSentPauseMs(attempt: number): number {
  return Math.min(200 * 2 ** attempt, MARK_SENT_MAX_PAUSE_MS);
}

export function describe(error: unknown): string {
  const e = error as { responseCode?: number; code?: string; message?: string };
  return [e.responseCode, e.code, e.message].filter(Boolean).join(' ').slice(0, 500) || 'unknown error';
}

export function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>@"']+@[^\s<>@"']+/g, '<address>');
}

/**
 * A link email goes out only with this long left on its link: one that arrives with a minute or two left is dead by
 * the time it is read and acted on (a new password typed, an invitation's form filled in).
 */
export const LINK_MIN_LEFT_MINUTES = 10;

/**
 * Whether the email's one-time link (context.linkExpiresAt, set by the link's issuer) has less than
 * LINK_MIN_LEFT_MINUTES left at `now`, or none.
 */
export function linkNearlyExpired(context: Record<string, unknown>, now: Date): boolean {
  const at = context.linkExpiresAt;
  if (typeof at !== 'string') return false;
  const time = Date.parse(at);
  return Number.isFinite(time) && time - now.getTime() < LINK_MIN_LEFT_MINUTES * 60_000;
}

/** The context to store once sent (JSON), or null when it holds no secret and stays as it is. */
export function scrubbed(context: Record<string, unknown>): string | null {
  if (!SECRET_CONTEXT_KEYS.some((key) => key in context)) return null;
  const copy = { ...context };
  for (const key of SECRET_CONTEXT_KEYS) if (key in copy) copy[key] = '[sent]';
  return JSON.stringify(copy);
}
