import type { DataSource } from 'typeorm';
import { CoalescerWaitTimeout } from 'src/common/batching/coalescer';
import { AppConfig } from 'src/config/app-config';
import { EmailDeliveryService, markSentPauseMs } from 'src/notifications/email-delivery.service';
import type { MailerService } from 'src/notifications/mailer.service';
import type { Notification } from 'src/notifications/notification.entity';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';

/**
 * A database whose UPDATE fails while `down` is set; the row's read and claim always work (they happened before the
 * outage), unless `silent` is set: then a read is never answered, as by a server that vanished without closing its
 * connections.
 */
function fakeWorld(lockMs: number, acquireMs = 20_000) {
  const row = {
    id: '0b0f5a4e-6f5d-4d0e-9a43-6a1d2b3c4d5e',
    template: 'email-verification',
    toEmail: 'li.mei@example.org',
    locale: 'en',
    context: { ...SAMPLE_TEMPLATE_CONTEXTS['email-verification'] },
    status: 'queued',
  } as unknown as Notification;
  const state = { down: true, silent: false, updates: 0, sends: 0, linkCheckFails: false, released: [] as unknown[][] };
  const dataSource = {
    query: async (sql: string, params: unknown[]) => {
      if (sql.includes('one_time_tokens')) {
        if (state.linkCheckFails) throw new Error('canceling statement due to statement timeout');
        return []; // the link was not cancelled
      }
      if (sql.includes('SET sending_until = NULL')) return void state.released.push(params);
      if (state.silent) return new Promise(() => undefined);
      if (sql.startsWith('WITH claimed')) return (params[0] as string[]).map((id) => ({ ...row, id, claimedUntil: '2026-12-07T10:00:00.123456+00:00' }));
      if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      state.updates++;
      return [];
    },
  } as unknown as DataSource;
  const mailer = {
    send: async () => {
      state.sends++;
      return { messageId: `<${row.id}@sprout.example.org>`, response: '250 OK queued' };
    },
  } as unknown as MailerService;
  const config = new AppConfig({ TEMPLATES_DIR: 'templates', QUEUE_LOCK_DURATION_MS: lockMs, DATABASE_ACQUIRE_TIMEOUT_MS: acquireMs } as unknown as AppConfig['env']);
  return { service: new EmailDeliveryService(dataSource, mailer, config), state, row };
}

describe('EmailDeliveryService: recording a send while the database is away', () => {
  it('keeps trying to record for as long as the job holds its lock, and does not send again', async () => {
    const { service, state } = fakeWorld(15_000);
    setTimeout(() => (state.down = false), 6500); // longer than the five tries (6 s) that used to be all it got
    await expect(service.deliver('0b0f5a4e-6f5d-4d0e-9a43-6a1d2b3c4d5e', false)).resolves.toBe('sent');
    expect(state).toMatchObject({ down: false, updates: 1, sends: 1 });
  }, 20_000);

  it('past the lock, fails the job but records instead of resending when the job comes back to this process', async () => {
    const { service, state, row } = fakeWorld(1000);
    await expect(service.deliver(row.id, false)).rejects.toThrow(/ECONNREFUSED/);
    expect(state.sends).toBe(1);
    state.down = false;
    await expect(service.deliver(row.id, false)).resolves.toBe('sent');
    expect(state).toMatchObject({ down: false, updates: 1, sends: 1 });
    // Recorded: a third run of the job (row now read as sent elsewhere) would send normally; the memory is spent.
    await expect(service.deliver(row.id, false)).resolves.toBe('sent');
    expect(state.sends).toBe(2);
  });

  it('records the sends that finish together in one UPDATE, each job still waiting for it', async () => {
    const { service, state, row } = fakeWorld(15_000);
    state.down = false;
    const ids = [row.id, row.id.replace(/^0/, '1'), row.id.replace(/^0/, '2')];
    await expect(Promise.all(ids.map((id) => service.deliver(id, false)))).resolves.toEqual(['sent', 'sent', 'sent']);
    expect(state).toMatchObject({ down: false, updates: 1, sends: 3 });
  });

  it('spaces its tries 400 ms, 800 ms, 1.6 s, then every 2 s', () => {
    expect([1, 2, 3, 4, 10, 60].map(markSentPauseMs)).toEqual([400, 800, 1600, 2000, 2000, 2000]);
  });
});

describe('EmailDeliveryService: the claim on a row', () => {
  it('ends its own claim (by its token) when the send fails before the server had the message, so the retry need not wait', async () => {
    const { service, state, row } = fakeWorld(15_000);
    state.linkCheckFails = true;
    await expect(service.deliver(row.id, false)).rejects.toThrow(/statement timeout/);
    expect(state.sends).toBe(0);
    expect(state.released).toEqual([[row.id, '2026-12-07T10:00:00.123456+00:00']]);
  });
});

describe('EmailDeliveryService: reading rows from a database that stopped answering', () => {
  // Two reads may run at once; the jobs behind them used to wait as long as those did (~15 min for TCP to give up),
  // every sending slot with them.
  it('fails the jobs waiting behind stuck reads after DATABASE_ACQUIRE_TIMEOUT_MS, to be retried, and sends nothing', async () => {
    const { service, state, row } = fakeWorld(15_000, 200);
    state.silent = true;
    void service.deliver(row.id, false);
    await new Promise((resolve) => setImmediate(resolve)); // the first read is running
    void service.deliver(row.id.replace(/^0/, '1'), false);
    await new Promise((resolve) => setImmediate(resolve)); // so is the second
    await expect(service.deliver(row.id.replace(/^0/, '2'), false)).rejects.toThrow(CoalescerWaitTimeout);
    expect(state.sends).toBe(0);
  }, 10_000);
});
