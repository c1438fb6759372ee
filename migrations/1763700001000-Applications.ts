import { MigrationInterface, QueryRunner } from 'typeorm';

const STATUSES = [
  'draft',
  'submitted',
  'under_review',
  'info_requested',
  'awaiting_second_approval',
  'approved',
  'rejected',
  'withdrawn',
  'cancelled',
  'disbursing',
  'completed',
];
const DOCUMENT_TYPES = [
  'diagnosis_certificate',
  'cost_estimate',
  'guardian_id',
  'household_register',
  'poverty_certificate',
  'income_proof',
  'bone_marrow_report',
  'hla_report',
  'invoice',
  'other',
];
const TIERS = ['A', 'B', 'C', 'ineligible'];
const list = (values: string[]) => values.map((v) => `'${v}'`).join(',');

const NATIONAL_BULLETIN_2024 =
  'Ministry of Civil Affairs, 2024 Statistical Bulletin on the Development of Civil Affairs ' +
  '(2024年民政事业发展统计公报): national average minimum living standard at the end of 2024';
const SHANGHAI_2021 =
  'Shanghai Civil Affairs Bureau, announced 2021-06-24 (Shanghai Daily): 1,330 yuan per person per month from July 2021';

/**
 * Version 1 of the means policy, frozen here as it was when this migration was written (DEFAULT_MEANS_POLICY
 * may change later; a changed default is a new version, never an edit of this row).
 */
export const MEANS_POLICY_VERSION_1 = {
  minimumLivingStandards: [
    { region: 'CN', hukouType: 'urban', monthlyAmount: 79810, source: NATIONAL_BULLETIN_2024, effectiveFrom: '2024-12-31' },
    { region: 'CN', hukouType: 'rural', monthlyAmount: 59390, source: NATIONAL_BULLETIN_2024, effectiveFrom: '2024-12-31' },
    { region: 'CN-SH', hukouType: 'urban', monthlyAmount: 133000, source: SHANGHAI_2021, effectiveFrom: '2021-07-01' },
    { region: 'CN-SH', hukouType: 'rural', monthlyAmount: 133000, source: SHANGHAI_2021, effectiveFrom: '2021-07-01' },
  ],
  shares: { A: '1', B: '0.85', C: '0.7' },
  caps: { hsct: 10000000, ist: 5000000, supportive: 2000000 },
  thresholds: {
    tierAIncomeMultiple: '1',
    tierBIncomeMultiple: '1.5',
    tierBBurden: '1',
    tierCBurden: '0.4',
    capacityToPayShareDeducted: '0.4',
    subsistenceMonths: 12,
    assetProtectionMonths: 6,
    roundingUnit: 10000,
  },
  manualReview: {
    minimumOutOfPocket: 500000,
    maxPatientAgeYears: 18,
    flagVehicle: true,
    flagExtraProperty: true,
    flagOtherOpenApplication: true,
  },
  tranches: {
    hsct: [{ label: 'full', share: '1' }],
    ist: [{ label: 'full', share: '1' }],
    supportive: [{ label: 'full', share: '1' }],
  },
};

export class Applications1763700001000 implements MigrationInterface {
  name = 'Applications1763700001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE means_policies (
        version integer PRIMARY KEY CHECK (version >= 1),
        policy jsonb NOT NULL CHECK (jsonb_typeof(policy) = 'object'),
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO means_policies (version, policy) VALUES (1, $1::jsonb)`, [JSON.stringify(MEANS_POLICY_VERSION_1)]);

    // One sequence for every year: the year prefix is for people, the number alone never repeats.
    await q.query(`CREATE SEQUENCE application_reference_seq AS bigint MINVALUE 1 NO CYCLE`);

    // National ids never sit in the jsonb sections: only AES-256-GCM tokens and an HMAC for duplicate look-ups.
    await q.query(`
      CREATE TABLE applications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        reference text NOT NULL CHECK (reference ~ '^SPR-[0-9]{4}-[0-9]{6,}$'),
        applicant_id uuid NOT NULL REFERENCES users(id),
        hospital_id uuid REFERENCES hospitals(id),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN (${list(STATUSES)})),
        version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        patient jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(patient) = 'object' AND NOT patient ? 'nationalId'),
        guardian jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(guardian) = 'object' AND NOT guardian ? 'nationalId'),
        household jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(household) = 'object'),
        medical jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(medical) = 'object'),
        consents jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(consents) = 'object'),
        patient_national_id_enc text,
        patient_national_id_hash text CHECK (patient_national_id_hash ~ '^[0-9a-f]{64}$'),
        guardian_national_id_enc text,
        submitted_at timestamptz,
        first_submitted_at timestamptz,
        withdrawn_at timestamptz,
        assessment_tier text CHECK (assessment_tier IN (${list(TIERS)})),
        recommended_amount bigint CHECK (recommended_amount BETWEEN 0 AND 1000000000000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT applications_patient_id_pair CHECK ((patient_national_id_enc IS NULL) = (patient_national_id_hash IS NULL)),
        CONSTRAINT applications_submitted_has_time CHECK (status = 'draft' OR status = 'withdrawn' OR submitted_at IS NOT NULL)
      )`);
    await q.query(`CREATE UNIQUE INDEX applications_reference_key ON applications (reference)`);
    // The reviewer queue: oldest submitted first, keyset-paginated.
    await q.query(`CREATE INDEX applications_status_submitted_idx ON applications (status, submitted_at, id)`);
    await q.query(`CREATE INDEX applications_applicant_idx ON applications (applicant_id, created_at, id)`);
    await q.query(`CREATE INDEX applications_hospital_idx ON applications (hospital_id, submitted_at, id)`);
    await q.query(`CREATE INDEX applications_first_submitted_idx ON applications (first_submitted_at, id) WHERE first_submitted_at IS NOT NULL`);
    await q.query(`CREATE INDEX applications_patient_hash_idx ON applications (patient_national_id_hash) WHERE patient_national_id_hash IS NOT NULL`);

    await q.query(`
      CREATE TABLE means_assessments (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id uuid NOT NULL REFERENCES applications(id),
        policy_version integer NOT NULL REFERENCES means_policies(version),
        trigger text NOT NULL CHECK (trigger IN ('created','updated','submitted')),
        complete boolean NOT NULL,
        missing jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(missing) = 'array'),
        inputs jsonb NOT NULL,
        result jsonb,
        tier text CHECK (tier IN (${list(TIERS)})),
        recommended_amount bigint CHECK (recommended_amount BETWEEN 0 AND 1000000000000),
        computed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT means_assessments_complete_has_result CHECK (complete = (result IS NOT NULL) AND complete = (tier IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX means_assessments_application_idx ON means_assessments (application_id, id DESC)`);

    await q.query(`
      CREATE TABLE application_documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        application_id uuid NOT NULL REFERENCES applications(id),
        type text NOT NULL CHECK (type IN (${list(DOCUMENT_TYPES)})),
        file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
        content_type text NOT NULL CHECK (content_type IN ('application/pdf','image/jpeg','image/png')),
        size bigint NOT NULL CHECK (size > 0),
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        storage_key text NOT NULL,
        uploaded_by uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX application_documents_storage_key ON application_documents (storage_key)`);
    await q.query(`CREATE INDEX application_documents_application_idx ON application_documents (application_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS application_documents`);
    await q.query(`DROP TABLE IF EXISTS means_assessments`);
    await q.query(`DROP TABLE IF EXISTS applications`);
    await q.query(`DROP SEQUENCE IF EXISTS application_reference_seq`);
    await q.query(`DROP TABLE IF EXISTS means_policies`);
  }
}
