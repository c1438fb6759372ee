import type { Queue } from 'bull';
import type { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { REVIEWER_DIGEST_JOB } from 'src/notifications/queue.constants';
import { ReviewerDigestScheduler } from 'src/notifications/reviewer-digest.scheduler';

/** The schedule is 08:00 in Shanghai (00:00 UTC); `existing` is the state of a catch-up job already in Redis for the day. */
function fakeWorld({ existing = null as 'failed' | 'waiting' | 'completed' | null, written = false } = {}) {
  const state = { added: [] as unknown[][], removed: 0 };
  const job = existing && { isFailed: async () => existing === 'failed', remove: async () => void state.removed++ };
  const queue = { getJob: async () => job, add: async (...args: unknown[]) => void state.added.push(args) } as unknown as Queue;
  const dataSource = { query: async () => [{ written }] } as unknown as DataSource;
  const config = new AppConfig({ REVIEWER_DIGEST_CRON: '0 8 * * *', REVIEWER_DIGEST_TZ: 'Asia/Shanghai' } as unknown as AppConfig['env']);
  return { scheduler: new ReviewerDigestScheduler(queue, dataSource, config), state };
}

const NINE_IN_SHANGHAI = new Date('2026-09-03T01:00:00Z');

describe('ReviewerDigestScheduler.catchUp', () => {
  it("adds a run of the day when today's run has passed and wrote no digest", async () => {
    const { scheduler, state } = fakeWorld();
    await expect(scheduler.catchUp(NINE_IN_SHANGHAI)).resolves.toBe(true);
    expect(state.added).toEqual([
      [REVIEWER_DIGEST_JOB, {}, expect.objectContaining({ jobId: 'reviewer-digest:catch-up:2026-09-03', attempts: 3 })],
    ]);
  });

  it("does nothing before today's scheduled time, nor once a reviewer has the day's digest", async () => {
    const early = fakeWorld();
    await expect(early.scheduler.catchUp(new Date('2026-09-02T23:30:00Z'))).resolves.toBe(false); // 07:30 in Shanghai
    const written = fakeWorld({ written: true });
    await expect(written.scheduler.catchUp(NINE_IN_SHANGHAI)).resolves.toBe(false);
    expect([early.state.added, written.state.added]).toEqual([[], []]);
  });

  it('replaces a catch-up that failed (the database still away), and leaves one waiting, running or done', async () => {
    const failed = fakeWorld({ existing: 'failed' });
    await expect(failed.scheduler.catchUp(NINE_IN_SHANGHAI)).resolves.toBe(true);
    expect(failed.state).toMatchObject({ removed: 1, added: [[REVIEWER_DIGEST_JOB, expect.anything(), expect.anything()]] });
    for (const existing of ['waiting', 'completed'] as const) {
      const kept = fakeWorld({ existing });
      await expect(kept.scheduler.catchUp(NINE_IN_SHANGHAI)).resolves.toBe(false);
      expect(kept.state).toEqual({ removed: 0, added: [] });
    }
  });
});
