import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';

/**
 * The folders this role writes, made if missing and checked writable at start-up: one under a file or without
 * permission used to start cleanly, read as ready, and then fail every upload, every import or every email.
 */
export async function assertWritableDirs(config: AppConfig): Promise<void> {
  const { UPLOAD_DIR, STATEMENT_SPOOL_DIR, MAIL_DIR, SMTP_URL } = config.env;
  const dirs: [string, string][] = [['UPLOAD_DIR', UPLOAD_DIR]];
  if (config.runsApi) dirs.push(['STATEMENT_SPOOL_DIR', STATEMENT_SPOOL_DIR]);
  if (config.runsWorker && !SMTP_URL) dirs.push(['MAIL_DIR', MAIL_DIR]);
  const problems: string[] = [];
  for (const [setting, dir] of dirs) {
    try {
      await mkdir(resolve(dir), { recursive: true });
      await access(resolve(dir), constants.W_OK | constants.X_OK);
    } catch (error) {
      problems.push(`${setting}: ${resolve(dir)} cannot be made or written to (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (problems.length) throw new ConfigValidationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
}
