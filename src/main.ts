import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from 'src/app.factory';
import { loadConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';
import { createRootLogger } from 'src/common/logging/logger';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createRootLogger(config.env.LOG_LEVEL);
  const app = await createApp(config, logger);
  await app.listen({ port: config.env.PORT, host: config.env.HOST });
  logger.info({ role: config.env.APP_ROLE, port: config.env.PORT }, 'Sprout is ready');
  // Nest closes the app on these (enableShutdownHooks); this only says so, for whoever reads the log.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => logger.info({ signal }, 'Sprout is stopping: finishing the requests, imports and sends in flight'));
  }
}

main().catch((error: unknown) => {
  // A setting found wrong only against the database (a data key that is not the data's): named, no stack, EX_CONFIG.
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`Sprout failed to start: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`Sprout failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
