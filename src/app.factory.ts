import multipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from 'src/app.module';
import { addSecurityHeaders } from 'src/common/http/security-headers';
import { clientErrorHandler, frameworkErrors } from 'src/common/problem/framework-errors';
import { ProblemFilter } from 'src/common/problem/problem.filter';
import { registerJsonBodyParser } from 'src/common/validation/json-body-parser';
import { createValidationPipe } from 'src/common/validation/validation.pipe';
import { AccessLogController } from 'src/common/logging/access-log';
import { PinoNestLogger } from 'src/common/logging/logger';
import { requestContext } from 'src/common/logging/request-context';
import { AppConfig } from 'src/config/app-config';
import { trustProxySetting } from 'src/config/env.schema';
import { assertWritableDirs } from 'src/config/writable-dirs';
import { ensureDatabase, prepareDatabaseOnOwnConnection } from 'src/database/database-bootstrap';
import { canBypassAppendOnly, runtimeRoleOf } from 'src/database/runtime-role';
import { setupOpenApi } from 'src/openapi';
import { RedisProbeService } from 'src/health/redis-probe.service';
import { AdminBootstrapService } from 'src/users/admin-bootstrap.service';

export const API_PREFIX = 'api/v1';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the whole service for a role; used by main.ts and by the e2e tests, so both run the same app. */
export async function createApp(config: AppConfig, logger: Logger): Promise<NestFastifyApplication> {
  const env = config.env;
  await assertWritableDirs(config);
  // The tables' owner migrates and creates (DATABASE_OWNER_URL); the service's own role is then given row rights only.
  const ownerUrl = env.DATABASE_OWNER_URL ?? env.DATABASE_URL;
  const runtimeRole = runtimeRoleOf(env.DATABASE_URL, env.DATABASE_OWNER_URL);
  if (env.DATABASE_AUTO_CREATE) {
    await ensureDatabase(ownerUrl, {
      onRetry: (error) => logger.warn(`PostgreSQL not reachable to create the database yet (${(error as Error).message}); trying again`),
    });
  }
  // Migrations (MIGRATIONS_RUN) and the checks of the database on one connection of their own, before the app's pool.
  const setting = env.DATABASE_OWNER_URL ? 'DATABASE_OWNER_URL' : 'DATABASE_URL';
  const checked = await prepareDatabaseOnOwnConnection(ownerUrl, { migrate: env.MIGRATIONS_RUN, keys: env, runtimeRole, setting }, env.DATABASE_ACQUIRE_TIMEOUT_MS, {
    onRetry: (error) => logger.warn(`PostgreSQL not reachable for migrations and checks yet (${(error as Error).message}); trying again`),
  });
  if (checked.migrated.length) logger.info({ migrations: checked.migrated }, 'migrations applied');
  if (checked.pending.length) logger.warn({ pending: checked.pending }, 'migrations pending: this release runs on the schema before them until a process with MIGRATIONS_RUN=true applies them');
  if (checked.keys === 'recorded') logger.info('data keys checked against the stored data, and their fingerprints recorded');
  if (checked.keys === 'unproven') logger.warn('data keys not yet provable on stored data (documents, but no national id, stored): checked again at the next start');
  if (checked.keys === 'unchecked') logger.warn('data keys not checked: the database is not migrated this far yet');

  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new AccessLogController(logger),
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    // Fastify answers HEAD by running the GET handler: a HEAD of the payment-file export marked every scheduled tranche
    // as sent to the bank, and audited a file nobody received. No client of this API needs HEAD.
    exposeHeadRoutes: false,
    // Fastify's default (0) switches Node's own limit off: a client stalled mid-upload held its connection for good.
    requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
    bodyParser: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  registerJsonBodyParser(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    requestContext.run({ requestId: request.id, ip: request.ip }, done);
  });
  addSecurityHeaders(fastify);
  addNoStoreToApiAnswers(fastify);
  await app.register(multipart, { limits: { fileSize: env.UPLOAD_MAX_BYTES, files: 1, fields: 5, fieldSize: 1024 } });
  const origins = env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length) {
    // The headers a browser client must read: request ids for support, when to retry, whether an answer was replayed,
    // a download's file name, and what a payment file left out or let through on an outdated bank account.
    const exposedHeaders = ['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'Content-Disposition', 'Outdated-Payees-Excluded', 'Outdated-Payees-Included', 'Already-Exported-Excluded', 'Already-Exported-Included', 'Payment-File-Exported-At'];
    app.enableCors({ origin: origins.includes('*') ? true : origins, credentials: false, exposedHeaders });
  }

  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  if (config.runsApi) setupOpenApi(app);

  await checkRedisPolicy(app, config, logger);
  await app.init();
  // With a runtime role of its own, granting its rights has refused one that could (grantRuntimeRights).
  if (env.NODE_ENV === 'production' && !runtimeRole) await warnOfTriggerBypass(app, logger);
  if (config.runsApi) await app.get(AdminBootstrapService).ensureAdmin();
  await fastify.ready();
  // Only now: Nest's signal handler closes the app without waiting for an init() still running (NestApplication.init
  // does not set the promise close() waits for), and closing Fastify starts it, so a SIGTERM during start-up made
  // init() fail with "Fastify instance is already listening. Cannot call setNotFoundHandler". Before this line a
  // signal ends the process the default way: nothing is being served yet, and migrations roll back with the connection.
  app.enableShutdownHooks();
  return app;
}

/** The append-only rules are triggers: a service signed in as their owner, or as a superuser, could switch them off. */
async function warnOfTriggerBypass(app: NestFastifyApplication, logger: Logger): Promise<void> {
  const bypass = await canBypassAppendOnly(app.get(DataSource));
  if (!bypass) return;
  logger.warn(
    `DATABASE_URL signs in as ${bypass === 'owner' ? "the tables' owner" : 'a superuser'}, which can switch off the append-only rules of the ledger and ` +
      'the audit trail: give the service a role of its own (DATABASE_OWNER_URL, README "Database roles")',
  );
}

async function checkRedisPolicy(app: NestFastifyApplication, config: AppConfig, logger: Logger): Promise<void> {
  // Told to accept the risk: nothing to check (a Redis that refuses CONFIG cannot be checked anyway).
  if (config.env.REDIS_ALLOW_EVICTION) return;
  const policy = await app.get(RedisProbeService).evictionPolicy();
  if (policy === null) {
    logger.warn('Redis is not reachable at start-up; email delivery waits for it (the outbox keeps every message).');
  } else if (policy === 'unknown') {
    throw new Error(
      'Redis refuses CONFIG GET maxmemory-policy, so Sprout cannot tell whether it evicts queued jobs (emails would be lost). ' +
        'Make sure its maxmemory-policy is noeviction, then set REDIS_ALLOW_EVICTION=true.',
    );
  } else if (policy !== 'noeviction') {
    throw new Error(
      `Redis maxmemory-policy is "${policy}": queued jobs could be evicted and emails lost. ` +
        'Set "maxmemory-policy noeviction" on Redis, or REDIS_ALLOW_EVICTION=true to accept the risk.',
    );
  }
}

/**
 * `Cache-Control: no-store` on every API answer that says nothing of its own (downloads and exports do): token pairs
 * (RFC 6749 §5.1) and applications with national ids must not stay in a browser's or a shared proxy's cache.
 */
function addNoStoreToApiAnswers(fastify: FastifyInstance): void {
  const api = new RegExp(`^/${API_PREFIX}(?:[/?]|$)`);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control') && api.test(request.url)) reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });
}
