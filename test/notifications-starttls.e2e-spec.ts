import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signedInUser } from 'test/support/factories';
import { SmtpSink } from 'test/support/smtp-sink';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const TLS_DIR = join(__dirname, 'fixtures', 'smtp-tls');
const starttls = { key: readFileSync(join(TLS_DIR, 'key.pem'), 'utf8'), cert: readFileSync(join(TLS_DIR, 'cert.pem'), 'utf8') };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A relay that offers STARTTLS with a certificate of a private CA (self-signed here). Emails carry one-time links: they
 * must cross the network encrypted, and never in clear text to a server whose certificate does not verify.
 */
describe('Sending over STARTTLS (e2e)', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await new SmtpSink({ starttls }).start();
  });
  afterAll(async () => {
    await sink.stop();
  });

  /** A reset email to a new account (its link is the secret on the wire); returns the account and its outbox row. */
  async function resetEmail(t: TestApp) {
    const user = await signedInUser(t, 'applicant');
    await t.http.post('/api/v1/auth/forgot-password').send({ email: user.email }).expect(202);
    const row = async () =>
      ((await t.dataSource.query(`SELECT status, attempts, last_error FROM notifications WHERE user_id = $1`, [user.id])) as {
        status: string;
        attempts: number;
        last_error: string | null;
      }[])[0];
    return { user, row };
  }

  describe('with the relay\'s certificate trusted (tls.ca in SMTP_URL)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${sink.port}?tls.ca=${encodeURIComponent(starttls.cert)}`, SMTP_TIMEOUT_MS: '10000' });
    });
    afterAll(async () => {
      await t.close();
    });

    it('delivers the message over TLS', async () => {
      sink.clear();
      const { user, row } = await resetEmail(t);
      const mail = await sink.waitForMailTo(user.email);
      expect(mail.secure).toBe(true);
      expect(mail.text).toContain('/reset-password?token=');
      expect(sink.attemptsTo(user.email).map((a) => a.secure)).toEqual([true]);
      // (Every other one too: an email an earlier test file of this jest worker left queued may come here as well.)
      expect(sink.attempts.filter((a) => !a.secure)).toEqual([]);
      await waitUntil(async () => (await row()).status === 'sent');
      expect(t.mail.received).toHaveLength(0); // the test app's own plain sink, unused
    });
  });

  describe('with certificate verification on and the certificate not trusted', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${sink.port}`, SMTP_TIMEOUT_MS: '10000' });
    });
    afterAll(async () => {
      await t.close();
    });

    it('sends nothing, in clear text or otherwise, and keeps the email to retry (an operator may fix the trust)', async () => {
      sink.clear();
      const { row } = await resetEmail(t);
      await waitUntil(async () => (await row()).attempts >= 2);
      const failed = await row();
      expect(failed.status).toBe('failed');
      expect(failed.last_error).toMatch(/self[- ]signed certificate/);
      await sleep(300);
      // Not a MAIL FROM, let alone a message: the client stopped at the TLS handshake.
      expect(sink.attempts).toHaveLength(0);
      expect(sink.received).toHaveLength(0);
    });
  });
});
