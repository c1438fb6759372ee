import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source';

// `.env` as `npm start` reads it (the environment wins), so that `npm run migration:revert` acts on the service's database.
if (existsSync('.env')) process.loadEnvFile('.env');

/**
 * The TypeORM CLI's DataSource (`npm run migration:generate|create|revert`): as the tables' owner when
 * DATABASE_OWNER_URL is set (only the owner may change the schema). After a revert, `npm run migration:run` gives the
 * runtime role its rights on the schema as it then is.
 */
export default new DataSource(dataSourceOptions(process.env.DATABASE_OWNER_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sprout'));
