import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from 'src/config/app-config';
import { ConfigValidationError, validateEnv } from 'src/config/env.schema';
import { assertWritableDirs } from 'src/config/writable-dirs';

describe('assertWritableDirs', () => {
  const root = mkdtempSync(join(tmpdir(), 'sprout-dirs-'));
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const config = (env: Record<string, string>) => new AppConfig({ ...validateEnv(env), JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: 'k', DATA_HASH_KEY: 'h' });

  it('makes the folders the role writes, and refuses start-up naming each one that cannot be made or written', async () => {
    const ok = { UPLOAD_DIR: join(root, 'uploads'), STATEMENT_SPOOL_DIR: join(root, 'spool'), MAIL_DIR: join(root, 'mail') };
    await assertWritableDirs(config(ok));
    for (const dir of Object.values(ok)) expect(statSync(dir).isDirectory()).toBe(true);

    const under = { UPLOAD_DIR: join(file, 'uploads'), STATEMENT_SPOOL_DIR: join(file, 'spool'), MAIL_DIR: join(file, 'mail') };
    const refused = assertWritableDirs(config(under));
    await expect(refused).rejects.toBeInstanceOf(ConfigValidationError);
    await expect(assertWritableDirs(config(under))).rejects.toThrow(/UPLOAD_DIR: .*a-file\/uploads cannot be made or written to \(ENOTDIR\)[\s\S]*STATEMENT_SPOOL_DIR[\s\S]*MAIL_DIR/);
    // Each role only what it writes: a worker no spool, any role no MAIL_DIR when it sends by SMTP.
    await expect(assertWritableDirs(config({ ...ok, APP_ROLE: 'worker', STATEMENT_SPOOL_DIR: under.STATEMENT_SPOOL_DIR }))).resolves.toBeUndefined();
    await expect(assertWritableDirs(config({ ...ok, MAIL_DIR: under.MAIL_DIR, SMTP_URL: 'smtp://mail.example.org' }))).resolves.toBeUndefined();
    await expect(assertWritableDirs(config({ ...ok, APP_ROLE: 'api', MAIL_DIR: under.MAIL_DIR }))).resolves.toBeUndefined();
  });
});
