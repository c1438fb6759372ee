import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { createApp } from 'src/app.factory';
import { AuditService } from 'src/audit/audit.service';
import { createRootLogger } from 'src/common/logging/logger';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { dataSourceOptions } from 'src/database/data-source';
import { ACCOUNT_DEFINITIONS } from 'src/fund/ledger-movements';
import { ADMIN_URL } from 'test/setup/test-databases';
import { SmtpSink } from 'test/support/smtp-sink';

export type TestApp = {
  app: NestFastifyApplication;
  http: TestAgent;
  mail: SmtpSink;
  config: AppConfig;
  dataSource: DataSource;
  /** Empties every table (schema kept) and the captured mail; call in beforeEach. */
  reset(): Promise<void>;
  close(): Promise<void>;
};

/** Boots the real service (api + worker in one process) against this worker's database, Redis and a fresh SMTP sink. */
export async function startTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const mail = await new SmtpSink().start();
  const config = loadConfig({ ...process.env, SMTP_URL: mail.url, SMTP_TIMEOUT_MS: '2000', ...overrides });
  const app = await createApp(config, createRootLogger(config.env.LOG_LEVEL));
  const dataSource = app.get(DataSource);
  const http = request(app.getHttpServer());
  return {
    app,
    http,
    mail,
    config,
    dataSource,
    reset: async () => {
      // Checked before the reset, thrown after it: a broken chain fails the test that follows, not every later one.
      const broken = await brokenAuditChain(app);
      await truncateAll(dataSource);
      if (broken) throw new Error(broken);
      mail.clear();
    },
    close: async () => {
      try {
        await app.close();
      } finally {
        await mail.stop();
      }
    },
  };
}

/**
 * Every test's audit events must verify as GET /audit/verify checks them, before the reset clears them: an event
 * whose stored content differs from what was hashed breaks the chain for good in production.
 */
async function brokenAuditChain(app: NestFastifyApplication): Promise<string | null> {
  // Not whether anchors are recent: tests write events at times of their choosing, and each reset removes the anchors.
  const verified = await app.get(AuditService).verify({ recentAnchors: false });
  if (verified.ok) return null;
  const [event] = (await app.get(DataSource).query(`SELECT action, summary FROM audit_events WHERE id = $1`, [verified.firstBrokenId])) as unknown[];
  return `the previous test left the audit chain broken (${verified.reason}) at ${JSON.stringify(event)}`;
}

export async function truncateAll(given: DataSource): Promise<void> {
  // As the tests' superuser even when the service runs as a runtime role (SPROUT_TEST_RUNTIME_ROLE).
  const url = new URL((given.options as { url: string }).url);
  const admin = new URL(ADMIN_URL);
  if (url.username === admin.username) return truncateAs(given);
  url.username = admin.username;
  url.password = admin.password;
  const asAdmin = await new DataSource(dataSourceOptions(url.toString(), 1)).initialize();
  try {
    await truncateAs(asAdmin);
    // The service opens the fund's accounts again in an emptied database (FundLedgerService.lockAccounts), which a
    // runtime role may not: in production the migration made them and nothing removes them.
    await asAdmin.query(`INSERT INTO ledger_accounts (code, normal_side, per_grant) SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])`, [
      ACCOUNT_DEFINITIONS.map((a) => a.code),
      ACCOUNT_DEFINITIONS.map((a) => a.normalSide),
      ACCOUNT_DEFINITIONS.map((a) => a.perGrant),
    ]);
  } finally {
    await asAdmin.destroy();
  }
}

async function truncateAs(dataSource: DataSource): Promise<void> {
  const tables = (await dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  )) as { tablename: string }[];
  if (!tables.length) return;
  // The append-only tables refuse TRUNCATE by trigger (migration AppendOnlyAgainstTruncate); a test database is reset
  // with triggers off for this one transaction, which only a superuser may do (as the tests connect).
  const truncate = () =>
    dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      await tx.query(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
    });
  // The worker may still be sending the last test's emails: TRUNCATE locks the tables one by one, and a sent-record
  // update holding notifications while it reads users makes a deadlock, which PostgreSQL settles by failing one side.
  for (let attempt = 1; ; attempt++) {
    try {
      return await truncate();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
    }
  }
}
