import pino from 'pino';
import { createApp } from 'src/app.factory';
import { loadConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';
import { checkDataKeys } from 'src/database/data-keys-check';
import { applicationWorld, createDraftApplication, uploadDocument } from 'test/support/application-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const otherKey = Buffer.alloc(32, 3).toString('base64');

/** A replica started with another data key than the data's refuses to start, naming the setting (operator testing). */
describe('Data keys checked against the stored data (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const keys = () => ({ DATA_ENCRYPTION_KEY: t.config.env.DATA_ENCRYPTION_KEY, DATA_HASH_KEY: t.config.env.DATA_HASH_KEY });

  it('a database written before the check proves the keys on a stored national id, then records them; later starts compare', async () => {
    const w = await applicationWorld(t);
    await createDraftApplication(t, w.family, w.hospital.id);
    await t.dataSource.query(`DELETE FROM data_key_fingerprints`); // as the last release left it

    await expect(checkDataKeys(t.dataSource, { ...keys(), DATA_ENCRYPTION_KEY: otherKey })).rejects.toThrow(/DATA_ENCRYPTION_KEY: does not open the national ids already stored/);
    await expect(checkDataKeys(t.dataSource, { ...keys(), DATA_HASH_KEY: otherKey })).rejects.toThrow(/DATA_HASH_KEY: is not the key the stored national ids were hashed with/);
    expect(await t.dataSource.query(`SELECT * FROM data_key_fingerprints`)).toEqual([]); // nothing recorded on a refusal
    expect(await checkDataKeys(t.dataSource, keys())).toBe('recorded');
    expect(await checkDataKeys(t.dataSource, keys())).toBe('matched');

    for (const setting of ['DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY'] as const) {
      const refused = checkDataKeys(t.dataSource, { ...keys(), [setting]: otherKey });
      await expect(refused).rejects.toBeInstanceOf(ConfigValidationError);
      await expect(checkDataKeys(t.dataSource, { ...keys(), [setting]: otherKey })).rejects.toThrow(new RegExp(`${setting}: is not the key this database's data was written with`));
    }
    const stored = (await t.dataSource.query(`SELECT setting, fingerprint FROM data_key_fingerprints ORDER BY setting`)) as { setting: string; fingerprint: string }[];
    expect(stored.map((r) => r.setting)).toEqual(['DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY']);
    expect(JSON.stringify(stored)).not.toContain(t.config.env.DATA_ENCRYPTION_KEY);
  });

  it('an empty database records the keys it starts with; one with documents but no national id records nothing unproven', async () => {
    await t.dataSource.query(`DELETE FROM data_key_fingerprints`);
    expect(await checkDataKeys(t.dataSource, { DATA_ENCRYPTION_KEY: otherKey, DATA_HASH_KEY: t.config.env.DATA_HASH_KEY })).toBe('recorded');
    await t.dataSource.query(`DELETE FROM data_key_fingerprints`);

    const w = await applicationWorld(t);
    const draft = await createDraftApplication(t, w.family, w.hospital.id);
    await uploadDocument(t, w.family, draft.id, 'diagnosis_certificate');
    await t.dataSource.query(`UPDATE applications SET patient_national_id_enc = NULL, patient_national_id_hash = NULL, guardian_national_id_enc = NULL`);
    await t.dataSource.query(`DELETE FROM data_key_fingerprints`);
    expect(await checkDataKeys(t.dataSource, { ...keys(), DATA_ENCRYPTION_KEY: otherKey })).toBe('unproven');
    expect(await t.dataSource.query(`SELECT * FROM data_key_fingerprints`)).toEqual([]);
  });

  it('start-up refuses a key that is not the data\'s, before the app is built', async () => {
    await checkDataKeys(t.dataSource, keys());
    const config = loadConfig({ ...process.env, DATA_ENCRYPTION_KEY: otherKey });
    await expect(createApp(config, pino({ level: 'silent' }))).rejects.toThrow(/DATA_ENCRYPTION_KEY: is not the key this database's data was written with/);
  });
});
