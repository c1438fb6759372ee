import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Env, validateEnv } from 'src/config/env.schema';

type Secrets = { JWT_SECRET: string; DATA_ENCRYPTION_KEY: string; DATA_HASH_KEY: string };

/**
 * The validated configuration, injected wherever a setting is needed (services never read process.env).
 * Secrets missing outside production are generated once into a git-ignored file so that
 * `npm start` works on a fresh machine and encrypted data stays readable across restarts.
 */
export class AppConfig {
  readonly env: Env & Secrets;

  constructor(env: Env & Secrets) {
    this.env = env;
  }

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }

  /** An address in the client app that emails link to: `APP_PUBLIC_URL` (with or without a trailing slash) + `path`. */
  publicUrl(path: string): string {
    return `${this.env.APP_PUBLIC_URL.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
  }

  get runsApi(): boolean {
    return this.env.APP_ROLE !== 'worker';
  }

  get runsWorker(): boolean {
    return this.env.APP_ROLE !== 'api';
  }
}

export function loadConfig(raw: Record<string, string | undefined> = process.env): AppConfig {
  const env = validateEnv(raw);
  const missing = (['JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY'] as const).filter((k) => !env[k]);
  const secrets = missing.length ? devSecrets(resolve(env.DEV_SECRETS_FILE)) : ({} as Partial<Secrets>);
  return new AppConfig({
    ...env,
    JWT_SECRET: env.JWT_SECRET ?? secrets.JWT_SECRET!,
    DATA_ENCRYPTION_KEY: env.DATA_ENCRYPTION_KEY ?? secrets.DATA_ENCRYPTION_KEY!,
    DATA_HASH_KEY: env.DATA_HASH_KEY ?? secrets.DATA_HASH_KEY!,
  });
}

function devSecrets(file: string): Secrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  const secrets: Secrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_HASH_KEY: randomBytes(32).toString('base64'),
  };
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
    return secrets;
  } catch (error) {
    // Another process (api and worker started together) wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
    throw error;
  }
}
