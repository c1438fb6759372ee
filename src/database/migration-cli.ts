import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source';

// `.env` as `npm start` reads it (the environment wins), so that `npm run migration:revert` acts on the service's database.
if (existsSync('.env')) process.loadEnvFile('.env');

/** The TypeORM CLI's DataSource (`npm run migration:generate|create|revert`). */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sprout'));
