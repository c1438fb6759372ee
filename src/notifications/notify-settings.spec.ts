import { ConfigValidationError, validateEnv } from 'src/config/env.schema';
import { AppConfig } from 'src/config/app-config';
import { EmailProcessor } from 'src/notifications/email.processor';
import { REVIEWER_DIGEST_JOB, SEND_EMAIL_JOB } from 'src/notifications/queue.constants';

/** The delivery throughput settings: how many sends a worker runs at once and how it pools SMTP connections. */
describe('delivery settings', () => {
  it('defaults: 16 sends at once, 16 pooled SMTP connections, 100 messages per connection', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({ NOTIFY_CONCURRENCY: 16, SMTP_POOL_CONNECTIONS: 16, SMTP_POOL_MAX_MESSAGES: 100 });
  });

  it('takes values in range', () => {
    expect(validateEnv({ NOTIFY_CONCURRENCY: '1', SMTP_POOL_CONNECTIONS: '0', SMTP_POOL_MAX_MESSAGES: '1' })).toMatchObject({
      NOTIFY_CONCURRENCY: 1,
      SMTP_POOL_CONNECTIONS: 0,
      SMTP_POOL_MAX_MESSAGES: 1,
    });
    expect(validateEnv({ NOTIFY_CONCURRENCY: '100', SMTP_POOL_CONNECTIONS: '100', SMTP_POOL_MAX_MESSAGES: '100000' })).toMatchObject({
      NOTIFY_CONCURRENCY: 100,
      SMTP_POOL_CONNECTIONS: 100,
    });
  });

  it.each([
    ['NOTIFY_CONCURRENCY', '0'],
    ['NOTIFY_CONCURRENCY', '101'],
    ['NOTIFY_CONCURRENCY', 'many'],
    ['NOTIFY_CONCURRENCY', '2.5'],
    ['SMTP_POOL_CONNECTIONS', '-1'],
    ['SMTP_POOL_CONNECTIONS', '101'],
    ['SMTP_POOL_MAX_MESSAGES', '0'],
  ])('refuses %s=%s, naming it', (key, value) => {
    expect(() => validateEnv({ [key]: value })).toThrow(ConfigValidationError);
    expect(() => validateEnv({ [key]: value })).toThrow(new RegExp(`${key}:`));
  });

  it('the email processor runs NOTIFY_CONCURRENCY sends at once', () => {
    const process = jest.fn().mockResolvedValue(undefined);
    const queue = { process, setWorkerName: jest.fn().mockResolvedValue(undefined) } as never;
    const config = new AppConfig({ ...validateEnv({ NOTIFY_CONCURRENCY: '24' }), JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'k', DATA_HASH_KEY: 'h' });
    const deliver = jest.fn().mockResolvedValue('sent');
    const checkTemplates = jest.fn();
    const processor = new EmailProcessor({ deliver, checkTemplates } as never, {} as never, queue, config);
    processor.onModuleInit();
    expect(checkTemplates.mock.invocationCallOrder[0]).toBeLessThan(process.mock.invocationCallOrder[0]); // no job before
    expect(process).toHaveBeenCalledWith(SEND_EMAIL_JOB, 24, expect.any(Function));
    expect(process).toHaveBeenCalledWith(REVIEWER_DIGEST_JOB, 1, expect.any(Function));
    const handler = process.mock.calls.find(([name]) => name === SEND_EMAIL_JOB)?.[2] as (job: unknown) => Promise<unknown>;
    return expect(handler({ data: { notificationId: 'n1' }, attemptsMade: 2, opts: { attempts: 3 } })).resolves.toBe('sent').then(() => {
      expect(deliver).toHaveBeenCalledWith('n1', true);
    });
  });
});
