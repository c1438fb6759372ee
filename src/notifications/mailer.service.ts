import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTransport, Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type NodemailerMessage from 'nodemailer/lib/mailer/mail-message';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { AppConfig } from 'src/config/app-config';
import { connectWithoutNagle } from 'src/notifications/smtp-socket';

export type MailMessage = { to: string; subject: string; html: string; text: string; notificationId: string };
export type SentMail = { messageId: string; response: string };

export class MailerClosedError extends Error {}

/**
 * The whole message went to the server, and then the connection failed (dropped, timed out) before the server said
 * whether it took it: it may have been delivered (RFC 1047's duplicate-message problem). `cause`: nodemailer's error.
 */
export class UnconfirmedSendError extends Error {
  readonly code: unknown;
  constructor(override readonly cause: Error) {
    super(`the connection failed after the whole message was sent, before the server confirmed it (it may have been delivered): ${cause.message}`);
    this.code = (cause as { code?: unknown }).code;
  }
}

/** Whether this send's whole message has left nodemailer's message stream for the connection. */
type SendProgress = { messageSent: boolean };

/**
 * nodemailer's message options, with one it reads (lib/mail-composer) that its type definitions leave out, and our
 * own `progress`, which nodemailer carries to plugins untouched.
 */
type MailOptions = Mail.Options & { baseBoundary: string; progress: SendProgress };

/**
 * The only code that touches nodemailer. With SMTP_URL set it speaks SMTP with explicit timeouts (a server that
 * stops answering costs at most SMTP_TIMEOUT_MS of silence, then the send fails and is retried); without it
 * (development) each message is written as an .eml file under MAIL_DIR.
 *
 * Connections are pooled (SMTP_POOL_CONNECTIONS, 0 = one connection per message): a send on an open connection
 * skips the TCP handshake, greeting, EHLO and QUIT. Each connection carries one message at a time, every send keeps
 * its own reply and error (a 4xx or 5xx fails that message only), and nodemailer closes a connection after any
 * failed send, so the next message starts on a fresh one. A connection that drops between messages is replaced;
 * one that drops under a message fails that message (retried by Bull) instead of being re-sent silently.
 */
@Injectable()
export class MailerService implements OnApplicationShutdown {
  private readonly logger = new Logger(MailerService.name);
  private readonly transport: Transporter;
  private readonly mailDir: string | null;
  private readonly messageIdDomain: string;
  private closed = false;

  constructor(private readonly config: AppConfig) {
    const { SMTP_URL, SMTP_TIMEOUT_MS, SMTP_POOL_CONNECTIONS, SMTP_POOL_MAX_MESSAGES, MAIL_DIR, MAIL_FROM } = config.env;
    this.messageIdDomain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(MAIL_FROM)?.[1] ?? 'sprout.local';
    if (SMTP_URL) {
      this.mailDir = null;
      // Parsed here and spread: createTransport(url, options) would take the options as message defaults, and
      // createTransport({ url, ... }) drops everything but the url, so the timeouts would silently not apply.
      const options: SMTPTransport.Options = {
        ...parseConnectionUrl(SMTP_URL),
        connectionTimeout: Math.min(SMTP_TIMEOUT_MS, 10_000),
        greetingTimeout: Math.min(SMTP_TIMEOUT_MS, 10_000),
        socketTimeout: SMTP_TIMEOUT_MS,
        dnsTimeout: Math.min(SMTP_TIMEOUT_MS, 10_000),
        disableFileAccess: true,
        disableUrlAccess: true,
        // Without Nagle: each message's DATA went out in chunks that waited on delayed ACKs (see smtp-socket.ts).
        getSocket: connectWithoutNagle(Math.min(SMTP_TIMEOUT_MS, 10_000)),
      };
      if (SMTP_POOL_CONNECTIONS > 0) {
        const pooled: SMTPPool.Options & { maxRequeues: number } = {
          ...options,
          pool: true,
          maxConnections: SMTP_POOL_CONNECTIONS,
          maxMessages: SMTP_POOL_MAX_MESSAGES,
          // nodemailer re-sends a message whose connection closed under it, without limit, by default: the server
          // may already have it. Fail it instead; the job's retry (and its backoff) decides.
          maxRequeues: 0,
        };
        this.transport = createTransport(pooled);
      } else {
        this.transport = createTransport(options);
      }
      if (config.env.QUEUE_LOCK_DURATION_MS < 3 * SMTP_TIMEOUT_MS) {
        this.logger.warn('QUEUE_LOCK_DURATION_MS is under 3 × SMTP_TIMEOUT_MS: a send outliving a lapsed lock could be sent twice');
      }
    } else {
      this.mailDir = resolve(MAIL_DIR);
      this.transport = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      this.logger.warn(`SMTP_URL is not set: emails are written to ${this.mailDir}`);
    }
    this.transport.use('stream', noteWhenMessageSent);
  }

  /** Returns the Message-ID and the server's reply. Throws nodemailer's error (with `responseCode` for SMTP replies). */
  async send(message: MailMessage): Promise<SentMail> {
    // A closed pool never calls back: the send would hang until its job's lock ran out.
    if (this.closed) throw new MailerClosedError('the mailer is shut down');
    const mail: MailOptions = {
      from: this.config.env.MAIL_FROM,
      to: message.to,
      subject: message.subject,
      html: message.html,
      text: message.text,
      // Fixed, so nodemailer does not scan every part twice with regular expressions to choose between quoted-printable
      // and base64 (and quoted-printable is encoded in JavaScript, base64 natively). Base64 is also the shorter of the
      // two for Chinese text (4 bytes per 3 against 9).
      textEncoding: 'base64',
      // Stable per outbox row: a duplicate caused by a crash after acceptance carries the same Message-ID,
      // which mail clients and support staff can recognise.
      messageId: `<${message.notificationId}@${this.messageIdDomain}>`,
      // The MIME boundaries' shared part, from the row id instead of crypto.randomBytes(8) (bench/HISTORY.md, eleventh
      // pass). Unique per message like the random one, and it cannot occur in the base64 bodies (it is joined with '-'
      // and '_', which base64 does not use). nodemailer 7 passes it to the multipart node only: the text and HTML parts
      // still draw their own bytes, unused as they have no boundary (~35 µs an email here, thirteenth pass).
      baseBoundary: message.notificationId.replace(/[^A-Za-z0-9]/g, ''),
      headers: { 'X-Sprout-Notification': message.notificationId, 'Auto-Submitted': 'auto-generated' },
      progress: { messageSent: false },
    };
    let info: Awaited<ReturnType<Transporter['sendMail']>>;
    try {
      info = await this.transport.sendMail(mail);
    } catch (error) {
      // A reply (4xx, 5xx) says the server did not take it; a failure without one after the message went out does not.
      const replied = typeof (error as { responseCode?: unknown }).responseCode === 'number';
      if (mail.progress.messageSent && !replied && error instanceof Error) throw new UnconfirmedSendError(error);
      throw error;
    }
    if (this.mailDir) {
      const file = await this.writeEml(message.notificationId, info.message as Buffer);
      return { messageId: String(info.messageId), response: `written to ${file}` };
    }
    return { messageId: String(info.messageId), response: String(info.response ?? '').slice(0, 500) };
  }

  /** Written under a temporary name and renamed, so a reader never sees half a message. */
  private async writeEml(notificationId: string, content: Buffer): Promise<string> {
    const dir = this.mailDir as string;
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${notificationId}.eml`);
    await writeFile(`${file}.tmp`, content, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return file;
  }

  /**
   * After every module's onModuleDestroy: the email processor waits there for running sends, which still need
   * their pooled connections.
   */
  onApplicationShutdown(): void {
    this.closed = true;
    this.transport.close();
  }
}

/**
 * nodemailer 'stream' plugin: marks the send's progress once the connection has read the whole message (the end of
 * its last stream). The listener only watches: the stream is passed on as it is.
 */
function noteWhenMessageSent(mail: NodemailerMessage, done: (error?: Error | null) => void): void {
  const progress = (mail.data as Partial<MailOptions>).progress;
  if (progress) {
    mail.message.processFunc((stream) => {
      stream.once('end', () => (progress.messageSent = true));
      return stream;
    });
  }
  done();
}
