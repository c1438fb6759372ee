import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { EnvSchema, validateEnv } from 'src/config/env.schema';

describe('.env.example', () => {
  const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const settings = [...new Set(getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false).map((m) => m.propertyName))];

  it('documents every setting the service reads', () => {
    expect(settings.length).toBeGreaterThan(20);
    expect(settings.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no setting the service does not read', () => {
    expect([...documented].filter((name) => !settings.includes(name))).toEqual([]);
  });

  it('leaves every setting it writes empty at its default, so a copied .env behaves as no .env', () => {
    const parsed = parseEnv(example);
    const empty = Object.keys(parsed).filter((name) => parsed[name] === '');
    expect(empty).toEqual(expect.arrayContaining(['DATABASE_AUTO_CREATE', 'SMTP_URL', 'ADMIN_EMAIL']));
    const fromExample = validateEnv(parsed) as unknown as Record<string, unknown>;
    const fromNothing = validateEnv({}) as unknown as Record<string, unknown>;
    for (const name of empty) expect([name, fromExample[name]]).toEqual([name, fromNothing[name]]);
  });

  it('gives no value to what production requires, so a copied .env still fails to start in production until set', () => {
    const parsed = parseEnv(example);
    for (const name of ['APP_PUBLIC_URL', 'MAIL_FROM', 'FUND_CONTACT', 'JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY', 'SMTP_URL']) {
      expect([name, parsed[name] ?? '']).toEqual([name, '']);
    }
    const secrets = { JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_HASH_KEY: Buffer.alloc(32, 2).toString('base64') };
    const production = { ...parsed, ...secrets, NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25', FUND_CONTACT: '021-6438 0000' };
    expect(() => validateEnv(production)).toThrow(/APP_PUBLIC_URL: required[\s\S]*MAIL_FROM: required/);
  });

  it('writes every value it gives as the default the service would use anyway', () => {
    const parsed = parseEnv(example);
    const fromExample = validateEnv(parsed) as unknown as Record<string, unknown>;
    const fromNothing = validateEnv({}) as unknown as Record<string, unknown>;
    for (const name of Object.keys(parsed)) expect([name, fromExample[name]]).toEqual([name, fromNothing[name]]);
  });
});
