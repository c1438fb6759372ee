import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { validateEnv } from 'src/config/env.schema';
import { MailerService } from 'src/notifications/mailer.service';

const config = (env: Record<string, string>) =>
  new AppConfig({ ...validateEnv(env), JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'k', DATA_HASH_KEY: 'h' });

describe('MailerService', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));

  it('applies the SMTP timeouts to the transport (not as message defaults)', () => {
    const mailer = new MailerService(config({ SMTP_URL: 'smtp://user:pass@mail.example.org:2525', SMTP_TIMEOUT_MS: '15000' }));
    const options = (mailer as unknown as { transport: { options: Record<string, unknown> } }).transport.options;
    expect(options).toMatchObject({ host: 'mail.example.org', port: 2525, socketTimeout: 15000, connectionTimeout: 10000, greetingTimeout: 10000 });
    expect(options.auth).toEqual({ user: 'user', pass: 'pass' });
    mailer.onModuleDestroy();
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
      mailer.onModuleDestroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
