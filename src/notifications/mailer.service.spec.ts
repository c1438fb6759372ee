import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { SMTPServer, SMTPServerSession } from 'smtp-server';
import { AppConfig } from 'src/config/app-config';
import { validateEnv } from 'src/config/env.schema';
import { isPermanent } from 'src/notifications/email-delivery.service';
import { MailerClosedError, MailerService, UnconfirmedSendError } from 'src/notifications/mailer.service';

const config = (env: Record<string, string>) =>
  new AppConfig({ ...validateEnv(env), JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'k', DATA_HASH_KEY: 'h' });

describe('MailerService', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));

  it('applies the SMTP timeouts to the transport (not as message defaults)', () => {
    const mailer = new MailerService(config({ SMTP_URL: 'smtp://user:pass@mail.example.org:2525', SMTP_TIMEOUT_MS: '15000' }));
    const options = (mailer as unknown as { transport: { options: Record<string, unknown> } }).transport.options;
    expect(options).toMatchObject({ host: 'mail.example.org', port: 2525, socketTimeout: 15000, connectionTimeout: 10000, greetingTimeout: 10000 });
    expect(options.auth).toEqual({ user: 'user', pass: 'pass' });
    mailer.onApplicationShutdown();
  });

  it('pools SMTP connections by default, and never re-sends a message whose connection dropped under it', () => {
    const mailer = new MailerService(config({ SMTP_URL: 'smtp://mail.example.org:2525', SMTP_TIMEOUT_MS: '15000' }));
    const options = (mailer as unknown as { transport: { options: Record<string, unknown> } }).transport.options;
    expect(options).toMatchObject({ pool: true, maxConnections: 16, maxMessages: 100, maxRequeues: 0, socketTimeout: 15000, greetingTimeout: 10000 });
    mailer.onApplicationShutdown();
  });

  it('SMTP_POOL_CONNECTIONS=0 opens a connection per message; the pool settings are taken as given', () => {
    const unpooled = new MailerService(config({ SMTP_URL: 'smtp://mail.example.org:2525', SMTP_POOL_CONNECTIONS: '0' }));
    expect((unpooled as unknown as { transport: { options: Record<string, unknown> } }).transport.options.pool).toBeUndefined();
    unpooled.onApplicationShutdown();
    const pooled = new MailerService(config({ SMTP_URL: 'smtp://mail.example.org:2525', SMTP_POOL_CONNECTIONS: '3', SMTP_POOL_MAX_MESSAGES: '7' }));
    expect((pooled as unknown as { transport: { options: Record<string, unknown> } }).transport.options).toMatchObject({ maxConnections: 3, maxMessages: 7 });
    pooled.onApplicationShutdown();
  });

  describe('over a real SMTP connection', () => {
    const message = (n: number | string) => ({ to: `family${n}@example.org`, subject: 'Hi', html: '<p>hi</p>', text: 'hi', notificationId: `id-${n}` });
    const closers: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
    });

    /**
     * An SMTP server that answers each message by its recipient: containing `refuse550`, `busy421`, `hang`, or else 250;
     * `dropdata` closes the connection after reading the whole message, `droprcpt` at its recipient.
     * `secure`: TLS from the first byte (smtps://, the server's built-in self-signed certificate).
     */
    async function smtpServer(secure = false): Promise<{ url: string; connections: () => number; accepted: string[] }> {
      let connections = 0;
      const accepted: string[] = [];
      const drop = (session: SMTPServerSession) => {
        const open = (server as unknown as { connections: Set<{ id: string; close(): void }> }).connections;
        [...open].find((connection) => connection.id === session.id)?.close();
      };
      const server: SMTPServer = new SMTPServer({
        secure,
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        disableReverseLookup: true,
        logger: false,
        closeTimeout: 100,
        onConnect: (_session, callback) => {
          connections++;
          callback();
        },
        onRcptTo: (address, session, callback) => (address.address.includes('droprcpt') ? drop(session) : callback()),
        onData: (stream, session: SMTPServerSession, callback) => {
          stream.resume();
          stream.on('end', () => {
            const to = session.envelope.rcptTo[0].address;
            if (to.includes('hang')) return; // never answers
            if (to.includes('dropdata')) return drop(session);
            if (to.includes('refuse550')) return callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
            if (to.includes('busy421')) return callback(Object.assign(new Error('Try later'), { responseCode: 421 }));
            accepted.push(to);
            callback();
          });
        },
      });
      server.on('error', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const port = (server.server.address() as AddressInfo).port;
      const url = secure ? `smtps://127.0.0.1:${port}?tls.rejectUnauthorized=false` : `smtp://127.0.0.1:${port}`;
      return { url, connections: () => connections, accepted };
    }

    /** A TCP server that accepts connections and never says anything (no SMTP greeting). */
    async function silentServer(): Promise<string> {
      const sockets: Socket[] = [];
      const server: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => {
        sockets.forEach((s) => s.destroy());
        return new Promise<void>((resolve) => server.close(() => resolve()));
      });
      return `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    function mailerFor(url: string, extra: Record<string, string> = {}): MailerService {
      const mailer = new MailerService(config({ SMTP_URL: url, SMTP_TIMEOUT_MS: '1000', QUEUE_LOCK_DURATION_MS: '3000', ...extra }));
      closers.push(() => mailer.onApplicationShutdown());
      return mailer;
    }

    it('reuses pooled connections for messages in a row', async () => {
      const server = await smtpServer();
      const mailer = mailerFor(server.url);
      for (let n = 0; n < 5; n++) await mailer.send(message(n));
      expect(server.accepted).toHaveLength(5);
      expect(server.connections()).toBe(1);
    });

    /** An SMTP server that refuses every message at one step, with a 5xx about the server and us, not the message. */
    async function refusingServer(step: 'greeting' | 'login' | 'sender' | 'recipient'): Promise<string> {
      const refusal = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });
      const server = new SMTPServer({
        authOptional: step !== 'login',
        allowInsecureAuth: true,
        disabledCommands: step === 'login' ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
        disableReverseLookup: true,
        logger: false,
        closeTimeout: 100,
        onConnect: (_session, callback) => callback(step === 'greeting' ? refusal('No SMTP service for your address', 554) : undefined),
        onAuth: (_auth, _session, callback) => callback(refusal('Invalid username or password', 535)),
        onMailFrom: (_address, _session, callback) => callback(step === 'sender' ? refusal('Sender address not allowed', 550) : undefined),
        onRcptTo: (_address, _session, callback) => callback(step === 'recipient' ? refusal('No such mailbox', 550) : undefined),
        onData: (stream, _session, callback) => {
          stream.resume();
          stream.on('end', () => callback());
        },
      });
      server.on('error', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const port = (server.server.address() as AddressInfo).port;
      return step === 'login' ? `smtp://sprout:rotated-password@127.0.0.1:${port}` : `smtp://127.0.0.1:${port}`;
    }

    it.each(['greeting', 'login', 'sender'] as const)(
      'a 5xx refusing us at the %s, not the message, is retried (transient), pooled or not',
      async (step) => {
        const url = await refusingServer(step);
        for (const pool of ['0', '2']) {
          const error = await mailerFor(url, { SMTP_POOL_CONNECTIONS: pool }).send(message(`${step}-${pool}`)).then(() => null, (e: unknown) => e);
          expect(error).toMatchObject({ responseCode: expect.any(Number) });
          expect((error as { responseCode: number }).responseCode).toBeGreaterThanOrEqual(500);
          expect(isPermanent(error)).toBe(false);
        }
      },
    );

    it('a 5xx refusing the recipient is permanent', async () => {
      const error = await mailerFor(await refusingServer('recipient')).send(message('unknown')).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ responseCode: 550, command: 'RCPT TO' });
      expect(isPermanent(error)).toBe(true);
    });

    it('keeps each message its own reply: 550 permanent, 421 transient, neighbours sent, the pool usable after', async () => {
      const server = await smtpServer();
      const mailer = mailerFor(server.url, { SMTP_POOL_CONNECTIONS: '2' });
      const results = await Promise.allSettled([
        mailer.send(message(1)),
        mailer.send(message('refuse550-a')),
        mailer.send(message(2)),
        mailer.send(message('busy421-b')),
        mailer.send(message(3)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      const refused = (results[1] as PromiseRejectedResult).reason;
      const busy = (results[3] as PromiseRejectedResult).reason;
      expect(refused).toMatchObject({ responseCode: 550 });
      expect(isPermanent(refused)).toBe(true);
      expect(busy).toMatchObject({ responseCode: 421 });
      expect(isPermanent(busy)).toBe(false);
      expect(server.accepted.sort()).toEqual(['family1@example.org', 'family2@example.org', 'family3@example.org']);
      // Afterwards the pool still works.
      await expect(mailer.send(message(4))).resolves.toMatchObject({ messageId: '<id-4@sprout.local>' });
    });

    it('times out a pooled send the server never answers, and the pool goes on', async () => {
      const server = await smtpServer();
      const mailer = mailerFor(server.url, { SMTP_POOL_CONNECTIONS: '2' });
      await mailer.send(message(1)); // a pooled connection exists
      const started = Date.now();
      const [hung, neighbour] = await Promise.allSettled([mailer.send(message('hang-a')), mailer.send(message(2))]);
      expect(hung.status).toBe('rejected');
      expect((hung as PromiseRejectedResult).reason).toMatchObject({ code: 'ETIMEDOUT' });
      expect(isPermanent((hung as PromiseRejectedResult).reason)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(neighbour.status).toBe('fulfilled');
      await expect(mailer.send(message(3))).resolves.toBeDefined();
      expect(server.accepted).toEqual(['family1@example.org', 'family2@example.org', 'family3@example.org']);
    });

    it('tells a send the server may have taken (the connection lost after the whole message) from one it cannot have', async () => {
      const server = await smtpServer();
      for (const pool of ['2', '0']) {
        const mailer = mailerFor(server.url, { SMTP_POOL_CONNECTIONS: pool });
        const failure = (to: string) => mailer.send(message(`${to}-${pool}`)).then(() => null, (e: unknown) => e);
        for (const lost of [await failure('dropdata'), await failure('hang')]) {
          expect(lost).toBeInstanceOf(UnconfirmedSendError);
          expect((lost as Error).message).toMatch(/after the whole message was sent.*may have been delivered/);
          expect(isPermanent(lost)).toBe(false);
        }
        expect(await failure('hang')).toMatchObject({ code: 'ETIMEDOUT' });
        for (const refused of [await failure('droprcpt'), await failure('busy421'), await failure('refuse550')]) {
          expect(refused).toBeInstanceOf(Error);
          expect(refused).not.toBeInstanceOf(UnconfirmedSendError);
        }
        await expect(mailer.send(message(`after-${pool}`))).resolves.toBeDefined();
      }
      expect(server.accepted).toEqual(['familyafter-2@example.org', 'familyafter-0@example.org']);
    });

    it('times out a server that never greets, pooled or not', async () => {
      const url = await silentServer();
      for (const pool of ['16', '0']) {
        const mailer = mailerFor(url, { SMTP_POOL_CONNECTIONS: pool });
        const started = Date.now();
        const error = await mailer.send(message(pool)).then(() => null, (e: unknown) => e);
        expect(error).toMatchObject({ code: 'ETIMEDOUT' });
        expect(isPermanent(error)).toBe(false);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        expect(Date.now() - started).toBeLessThan(5000);
      }
    });

    it('turns Nagle off on every SMTP connection, pooled or not, and TLS from the first byte still works', async () => {
      // smtp-server turns it off on the sockets it accepts too (in this process): those are connected when it does,
      // the client's are not yet (the flag is applied as they connect).
      const setNoDelay = Socket.prototype.setNoDelay;
      let clientSockets = 0;
      const spy = jest.spyOn(Socket.prototype, 'setNoDelay').mockImplementation(function (this: Socket, enable?: boolean) {
        if (enable === true && this.localPort === undefined) clientSockets++;
        return setNoDelay.call(this, enable);
      });
      try {
        for (const [secure, pool] of [[false, '2'], [false, '0'], [true, '2'], [true, '0']] as const) {
          clientSockets = 0;
          const server = await smtpServer(secure);
          const mailer = mailerFor(server.url, { SMTP_POOL_CONNECTIONS: pool });
          await Promise.all([1, 2, 3].map((n) => mailer.send(message(`${pool}-${n}`))));
          expect(server.accepted.sort()).toEqual([1, 2, 3].map((n) => `family${pool}-${n}@example.org`));
          expect(server.connections()).toBe(pool === '0' ? 3 : 2);
          expect(clientSockets).toBe(server.connections());
        }
      } finally {
        spy.mockRestore();
      }
    });

    it('fails a send whose server refuses the connection as a transient error', async () => {
      const closed = await silentServer();
      await closers.splice(-1)[0](); // nothing listens on that port any more
      for (const pool of ['2', '0']) {
        const error = await mailerFor(closed, { SMTP_POOL_CONNECTIONS: pool }).send(message(pool)).then(() => null, (e: unknown) => e);
        // A socket error as nodemailer names it (the pool drops the connection: smtp-socket.ts), saying what it was.
        expect(error).toMatchObject({ code: 'ESOCKET', message: expect.stringContaining('ECONNREFUSED') });
        expect(isPermanent(error)).toBe(false);
      }
    });

    it('refuses to send once shut down instead of waiting forever on the closed pool', async () => {
      const server = await smtpServer();
      const mailer = mailerFor(server.url);
      await mailer.send(message(1));
      mailer.onApplicationShutdown();
      await expect(mailer.send(message(2))).rejects.toBeInstanceOf(MailerClosedError);
    });
  });

  it('writes .eml files under MAIL_DIR when SMTP_URL is unset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-mail-'));
    try {
      const mailer = new MailerService(config({ MAIL_DIR: dir, MAIL_FROM: 'Sprout <no-reply@fund.example.org>' }));
      const sent = await mailer.send({ to: 'li.mei@example.org', subject: '请确认', html: '<p>hi</p>', text: 'hi', notificationId: 'a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b' });
      expect(sent.messageId).toBe('<a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b@fund.example.org>');
      expect(sent.response).toMatch(/^written to .*\.eml$/);
      const files = readdirSync(dir);
      expect(files).toEqual([expect.stringMatching(/-a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b\.eml$/)]);
      const eml = readFileSync(join(dir, files[0]), 'utf8');
      expect(eml).toContain('To: li.mei@example.org');
      expect(eml).toContain('X-Sprout-Notification: a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b');
      // The multipart boundary is the row's id, not random bytes, and it separates the text and HTML parts.
      const boundary = /boundary="([^"]+)"/.exec(eml)?.[1];
      expect(boundary).toBe('--_NmP-a3f1c2d45b6e4f708a9b0c1d2e3f4a5b-Part_1');
      expect(eml.split(`--${boundary}\r\n`)).toHaveLength(3);
      expect(eml).toContain(`--${boundary}--`);
      mailer.onApplicationShutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
