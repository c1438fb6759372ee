import { AddressInfo } from 'node:net';
import { simpleParser, ParsedMail } from 'mailparser';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/** `secure`: the message came over TLS (the client said STARTTLS first). */
export type ReceivedMail = { to: string[]; subject: string; text: string; html: string; headers: ParsedMail['headers']; raw: ParsedMail; secure: boolean };

/**
 * What the sink does with the next message (the service pools its SMTP connections, so messages, not connections,
 * take the script; only `silent` is about a connection):
 * - `accept`: 250 after DATA (the default when nothing is queued);
 * - `error`: answer the DATA with this SMTP code (421 temporary, 550 permanent, ...);
 * - `hang`: read the whole message, then never answer (the client's socket timeout must fire);
 * - `drop`: read the whole message, then close the connection without answering (did the server take it?);
 * - `delay`: read the whole message, then accept it `ms` later (a slow server: the send is in flight meanwhile);
 * - `silent`: the next new TCP connection is accepted but never greeted (the client's greeting timeout must fire);
 *   queuing it closes the idle connections the client holds, so that its next message needs a new one.
 */
export type SinkBehaviour =
  | { reply: 'accept' }
  | { reply: 'error'; code: number; message: string }
  | { reply: 'hang' }
  | { reply: 'drop' }
  | { reply: 'delay'; ms: number }
  | { reply: 'silent' };

/** Every message transaction the sink saw, whatever it answered. */
export type SinkAttempt = { to: string[]; reply: 'accept' | 'error' | 'hang' | 'drop' | 'cut-short'; code: number | null; notificationId: string | null; at: number; secure: boolean };

type SessionWithBehaviour = SMTPServerSession & { behaviour?: SinkBehaviour };

/** `starttls`: offer STARTTLS with this key and certificate (PEM); without it the sink speaks plain SMTP only. */
export type SinkOptions = { starttls?: { key: string; cert: string } };

/** A real SMTP server on a free local port that keeps and parses everything it accepts. */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  readonly attempts: SinkAttempt[] = [];
  private readonly script: SinkBehaviour[] = [];
  private server!: SMTPServer;
  port = 0;

  constructor(private readonly options: SinkOptions = {}) {}

  async start(port = 0): Promise<this> {
    const { starttls } = this.options;
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: starttls ? ['AUTH'] : ['STARTTLS', 'AUTH'],
      ...(starttls && { key: starttls.key, cert: starttls.cert }),
      logger: false,
      closeTimeout: 200,
      onConnect: (_session, callback) => {
        if (this.script[0]?.reply === 'silent') {
          this.script.shift();
          return; // no callback, no greeting
        }
        callback();
      },
      onMailFrom: (_address, session, callback) => {
        const next = this.script[0] && this.script[0].reply !== 'silent' ? this.script.shift() : undefined;
        (session as SessionWithBehaviour).behaviour = next ?? { reply: 'accept' };
        callback();
      },
      // A client that drops the connection mid-message (its socket timeout, a shutdown) makes the parse reject;
      // that is an attempt the sink saw, not an error of the test process.
      onData: (stream, session, callback) =>
        void this.onData(stream, session as SessionWithBehaviour, callback).catch((error: Error) => {
          const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          this.attempts.push({ to, reply: 'cut-short', code: null, notificationId: null, at: Date.now(), secure: session.secure });
          callback(error);
        }),
    });
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Queues behaviours for the next messages, in order; then back to accepting. */
  replyWith(...behaviours: SinkBehaviour[]): void {
    this.script.push(...behaviours);
    if (behaviours.some((b) => b.reply === 'silent')) this.closeIdleConnections();
  }

  /** Ends every connection that is not in the middle of a message (a pooled client then opens a new one). */
  closeIdleConnections(): void {
    const connections = (this.server as unknown as { connections: Set<{ session: SMTPServerSession; close(): void }> }).connections;
    for (const connection of [...connections]) {
      if (!connection.session?.envelope?.mailFrom) connection.close();
    }
  }

  to(email: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(email.toLowerCase()));
  }

  attemptsTo(email: string): SinkAttempt[] {
    return this.attempts.filter((a) => a.to.includes(email.toLowerCase()));
  }

  async waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
    await this.until(() => this.received.some(predicate), timeoutMs, () => `no matching email within ${timeoutMs} ms (received ${this.received.length})`);
    return this.received.find(predicate) as ReceivedMail;
  }

  waitForMailTo(email: string, timeoutMs?: number): Promise<ReceivedMail> {
    return this.waitFor((m) => m.to.includes(email.toLowerCase()), timeoutMs);
  }

  /** Resolves once `count` messages have been accepted in all. */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.received.length >= count, timeoutMs, () => `expected ${count} emails within ${timeoutMs} ms, got ${this.received.length}`);
  }

  /** Resolves once a message transaction matching `predicate` has been seen (accepted, refused or hung). */
  async waitForAttempt(predicate: (attempt: SinkAttempt) => boolean, timeoutMs = 10_000): Promise<SinkAttempt> {
    await this.until(() => this.attempts.some(predicate), timeoutMs, () => `no matching SMTP transaction within ${timeoutMs} ms (saw ${this.attempts.length})`);
    return this.attempts.find(predicate) as SinkAttempt;
  }

  clear(): void {
    this.received.length = 0;
    this.attempts.length = 0;
    this.script.length = 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async until(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(failure());
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async onData(stream: SMTPServerDataStream, session: SessionWithBehaviour, callback: (err?: Error | null) => void): Promise<void> {
    const behaviour = session.behaviour ?? { reply: 'accept' };
    const parsed = await simpleParser(stream);
    const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
    const header = parsed.headers.get('x-sprout-notification');
    const attempt: SinkAttempt = { to, reply: 'accept', code: 250, notificationId: typeof header === 'string' ? header : null, at: Date.now(), secure: session.secure };
    if (behaviour.reply === 'hang') {
      this.attempts.push({ ...attempt, reply: 'hang', code: null });
      return; // never answer: the client's socket timeout must fire
    }
    if (behaviour.reply === 'drop') {
      this.attempts.push({ ...attempt, reply: 'drop', code: null });
      const connections = (this.server as unknown as { connections: Set<{ id: string; close(): void }> }).connections;
      return [...connections].find((connection) => connection.id === session.id)?.close();
    }
    if (behaviour.reply === 'error') {
      this.attempts.push({ ...attempt, reply: 'error', code: behaviour.code });
      const error = new Error(behaviour.message) as Error & { responseCode: number };
      error.responseCode = behaviour.code;
      return callback(error);
    }
    this.attempts.push(attempt);
    if (behaviour.reply === 'delay') await new Promise((r) => setTimeout(r, behaviour.ms));
    this.received.push({
      to,
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      headers: parsed.headers,
      raw: parsed,
      secure: session.secure,
    });
    callback();
  }
}
