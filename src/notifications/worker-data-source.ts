import { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from 'src/config/app-config';
import { dataSourceOptions, QUERY_TIMEOUT_MS } from 'src/database/data-source';

/** The worker's DataSource (`@InjectDataSource(WORKER_DATA_SOURCE)`); its connections show in pg_stat_activity as `sprout-worker`. */
export const WORKER_DATA_SOURCE = 'worker';

/**
 * A pool of the worker's own. With APP_ROLE=all the worker shared the requests' pool: sixteen sends failing at once
 * took sixteen connections (more than the default ten) while requests waited, and a burst of requests delayed emails.
 */
export function workerDataSourceModule(config: AppConfig): DynamicModule {
  const { DATABASE_URL, WORKER_DATABASE_POOL_SIZE, DATABASE_ACQUIRE_TIMEOUT_MS } = config.env;
  return TypeOrmModule.forRoot({
    ...dataSourceOptions(DATABASE_URL, WORKER_DATABASE_POOL_SIZE, DATABASE_ACQUIRE_TIMEOUT_MS, 'sprout-worker', { queryTimeoutMs: QUERY_TIMEOUT_MS }),
    name: WORKER_DATA_SOURCE,
    autoLoadEntities: false,
  });
}
