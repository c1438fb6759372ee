import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NationalIdVault } from 'src/applications/national-id-vault';
import { ConfigValidationError } from 'src/config/env.schema';

export type DataKeys = { DATA_ENCRYPTION_KEY: string; DATA_HASH_KEY: string };
type Setting = keyof DataKeys;
const SETTINGS: readonly Setting[] = ['DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY'];

/** HMAC-SHA256 of a fixed text under the key: tells keys apart, gives nothing of the key away. */
export function keyFingerprint(setting: Setting, keyBase64: string): string {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(`sprout data key fingerprint v1 ${setting}`).digest('hex');
}

const refusal = (setting: Setting, why: string) =>
  new ConfigValidationError(
    `Invalid configuration:\n  - ${setting}: ${why}. Start with the key the data was written with ` +
      `(without it, what was stored under it cannot be read, and what is written now could not be read by the rest).`,
  );

/**
 * Refuses (ConfigValidationError, naming the setting) data keys that are not the ones the database's data was written
 * with: a mistyped or regenerated key used to start cleanly, answer 500 to every read of a national id or document,
 * and seal new ones under itself, for good. The first start with this check proves the keys on the data itself when
 * there is any (a stored national id must open, and hash to its stored hash), then records their fingerprints; every
 * later start compares. Returns what it did ('unproven': documents but no national id stored, nothing recorded).
 * Run after migrations, on a connection of the caller's.
 */
export async function checkDataKeys(dataSource: DataSource, keys: DataKeys): Promise<'matched' | 'recorded' | 'unproven'> {
  const fingerprints = Object.fromEntries(SETTINGS.map((s) => [s, keyFingerprint(s, keys[s])])) as Record<Setting, string>;
  const recorded = async () =>
    new Map(
      ((await dataSource.query(`SELECT setting, fingerprint, recorded_at FROM data_key_fingerprints`)) as { setting: Setting; fingerprint: string; recorded_at: Date }[]).map(
        (r) => [r.setting, r],
      ),
    );
  const compare = (stored: Awaited<ReturnType<typeof recorded>>) => {
    for (const setting of SETTINGS) {
      const row = stored.get(setting);
      if (row && row.fingerprint !== fingerprints[setting]) {
        throw refusal(setting, `is not the key this database's data was written with (its fingerprint differs from the one recorded on ${row.recorded_at.toISOString()})`);
      }
    }
  };
  const stored = await recorded();
  compare(stored);
  if (SETTINGS.every((s) => stored.has(s))) return 'matched';

  if (!(await proveOnStoredData(dataSource, keys))) return 'unproven';
  await dataSource.query(
    `INSERT INTO data_key_fingerprints (setting, fingerprint) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (setting) DO NOTHING`,
    [SETTINGS, SETTINGS.map((s) => fingerprints[s])],
  );
  compare(await recorded()); // another replica may have recorded other keys meanwhile
  return 'recorded';
}

/**
 * Stored national ids must open under the encryption key and hash, under the hash key, to the hash stored beside
 * them: of up to PROOF_SAMPLE of them, one that does is proof enough (a row damaged by hand should not keep the
 * service from starting); none that opens, or none that hashes right, is a refusal.
 */
async function proveOnStoredData(dataSource: DataSource, keys: DataKeys): Promise<boolean> {
  const samples = (await dataSource.query(
    `SELECT patient_national_id_enc AS enc, patient_national_id_hash AS hash FROM applications WHERE patient_national_id_enc IS NOT NULL LIMIT ${PROOF_SAMPLE}`,
  )) as { enc: string; hash: string }[];
  if (!samples.length) {
    // Nothing to prove the keys on: fine for an empty database; with documents stored (sealed under a key this check
    // cannot open) the keys are not recorded unproven, and the next start tries again.
    const [{ documents }] = (await dataSource.query(`SELECT EXISTS (SELECT 1 FROM application_documents) AS documents`)) as { documents: boolean }[];
    return !documents;
  }
  const vault = NationalIdVault.withKeys(keys);
  let opened = 0;
  for (const sample of samples) {
    let nationalId: string | null;
    try {
      nationalId = vault.open(sample.enc);
    } catch {
      continue;
    }
    opened++;
    if (nationalId !== null && vault.hash(nationalId) === sample.hash) return true;
  }
  if (!opened) throw refusal('DATA_ENCRYPTION_KEY', 'does not open the national ids already stored');
  throw refusal('DATA_HASH_KEY', 'is not the key the stored national ids were hashed with (the same child would no longer be recognised across applications)');
}
const PROOF_SAMPLE = 20;
