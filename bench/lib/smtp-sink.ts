import { SMTPServer } from 'smtp-server';

/**
 * A local SMTP server that accepts everything and counts deliveries per recipient. The notification scenario gives
 * each event its own recipient address, so losses and duplicates are counted from the envelope without parsing
 * (and paying for) the message bodies.
 */
export class SmtpSink {
  readonly perRecipient = new Map<string, number>();
  messages = 0;
  lastAt = 0;
  private server: SMTPServer | null = null;
  port = 0;

  async start(): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      // No reverse DNS lookup of each client: on a machine without DNS it costs every connection a resolver
      // timeout, which would be charged to the service's delivery rate.
      disableReverseLookup: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 10 * 1024 * 1024,
      onData: (stream, session, callback) => {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          this.messages++;
          this.lastAt = performance.now();
          for (const rcpt of session.envelope.rcptTo) this.perRecipient.set(rcpt.address, (this.perRecipient.get(rcpt.address) ?? 0) + 1);
          callback();
        });
      },
    });
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
    return this.port;
  }

  /** Deliveries to recipients starting with `prefix`: distinct recipients and duplicates. */
  count(prefix: string): { unique: number; duplicates: number } {
    let unique = 0;
    let duplicates = 0;
    for (const [address, n] of this.perRecipient) {
      if (!address.startsWith(prefix)) continue;
      unique++;
      duplicates += n - 1;
    }
    return { unique, duplicates };
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}
