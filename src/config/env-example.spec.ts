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
});
