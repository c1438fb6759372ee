import { randomUUID } from 'node:crypto';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { TestApp } from 'test/support/test-app';

/** Valid GB 11643 ids (the examples in API.md have wrong check characters). */
export const PATIENT_NATIONAL_ID = '310101201905010015';
export const GUARDIAN_NATIONAL_ID = '310101198801010024';

export const DOCUMENT_TYPES_FOR_SUBMISSION = ['diagnosis_certificate', 'cost_estimate', 'guardian_id', 'household_register', 'income_proof'] as const;

export type ApplicationBody = {
  hospitalId?: string | null;
  patient?: Record<string, unknown> | null;
  guardian?: Record<string, unknown> | null;
  household?: Record<string, unknown> | null;
  medical?: Record<string, unknown> | null;
  consents?: Record<string, unknown> | null;
};

/**
 * A complete, valid application: the DESIGN.md worked example (rural family of 4 in a region without its own
 * row, so d = ¥593.90; Y ¥48,000, L ¥10,000, C ¥400,000, R ¥220,000, hsct) → tier B, recommended ¥100,000.
 * `overrides` are merged per section; a null field removes it.
 */
export function applicationBody(hospitalId: string, overrides: ApplicationBody = {}): ApplicationBody {
  const base: Required<ApplicationBody> = {
    hospitalId,
    patient: { fullName: '王小明', sex: 'male', dateOfBirth: '2019-05-01', nationalId: PATIENT_NATIONAL_ID, region: 'CN-GS', hukouType: 'rural' },
    guardian: { fullName: '李梅', relationship: 'mother', nationalId: GUARDIAN_NATIONAL_ID, phone: '13800000000' },
    household: { size: 4, annualIncome: 4_800_000, liquidAssets: 1_000_000, debts: 0, ownsVehicle: false, ownsExtraProperty: false, statusFlags: [] },
    medical: {
      diagnosis: 'acquired_aplastic_anemia',
      icd10: 'D61.9',
      diagnosedOn: '2026-09-01',
      anc: 0.3,
      platelets: 15,
      reticulocytes: 18,
      treatmentPlan: 'hsct',
      estimatedCost: 40_000_000,
      expectedReimbursement: 22_000_000,
      otherAid: 0,
    },
    consents: { sensitiveData: true, guardian: true, truthfulness: true, publicDisclosure: false },
  };
  const out: ApplicationBody = { ...base };
  for (const [key, value] of Object.entries(overrides) as [keyof ApplicationBody, unknown][]) {
    if (key === 'hospitalId' || value === null || typeof value !== 'object') {
      (out as Record<string, unknown>)[key] = value;
      continue;
    }
    const merged: Record<string, unknown> = { ...(base[key] as Record<string, unknown>) };
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null) delete merged[field];
      else merged[field] = v;
    }
    (out as Record<string, unknown>)[key] = merged;
  }
  return out;
}

/** The smallest files each detector accepts. */
export const files = {
  pdf: (extra = '') => Buffer.from(`%PDF-1.4\n1 0 obj <<>> endobj\n${extra}trailer <<>>\n%%EOF\n`, 'latin1'),
  png: () =>
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex')]),
  jpeg: () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]),
  /** A Windows executable's start: "MZ" and a DOS stub. */
  exe: () => Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.alloc(58), Buffer.from([0x80, 0, 0, 0]), Buffer.from('This program cannot be run in DOS mode.', 'latin1')]),
};

export type Family = SignedIn;

/** A family with a verified email, a hospital, and an admin who made it. */
export async function applicationWorld(t: TestApp): Promise<{ admin: SignedIn; hospital: { id: string; code: string }; family: Family }> {
  const admin = await signedInUser(t, 'admin');
  const hospital = await createHospital(t, admin);
  const family = await signedInUser(t, 'applicant');
  return { admin, hospital, family };
}

export async function createDraftApplication(
  t: TestApp,
  family: Family,
  hospitalId: string,
  overrides: ApplicationBody = {},
): Promise<{ id: string; reference: string; version: number; body: Record<string, unknown> }> {
  const res = await t.http.post('/api/v1/applications').set(family.auth).send(applicationBody(hospitalId, overrides));
  if (res.status !== 201) throw new Error(`creating the application failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, reference: res.body.reference, version: res.body.version, body: res.body };
}

/** GET of a document's content, its body read whole as bytes (supertest would parse a PDF or an image as text). */
export function downloadDocument(t: TestApp, who: { auth: Record<string, string> }, applicationId: string, documentId: string) {
  return t.http
    .get(`/api/v1/applications/${applicationId}/documents/${documentId}/content`)
    .set(who.auth)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
}

export async function uploadDocument(
  t: TestApp,
  family: Family,
  applicationId: string,
  type: string,
  content: Buffer = files.pdf(),
  fileName = `${type}.pdf`,
) {
  return t.http
    .post(`/api/v1/applications/${applicationId}/documents`)
    .set(family.auth)
    .field('type', type)
    .attach('file', content, { filename: fileName, contentType: 'application/pdf' });
}

export async function uploadRequiredDocuments(t: TestApp, family: Family, applicationId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const type of DOCUMENT_TYPES_FOR_SUBMISSION) {
    const res = await uploadDocument(t, family, applicationId, type);
    if (res.status !== 201) throw new Error(`uploading ${type} failed: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.id);
  }
  return ids;
}

/** Create, upload every required document and submit: the application is then in the review queue. */
export async function createSubmittedApplication(
  t: TestApp,
  family: Family,
  hospitalId: string,
  overrides: ApplicationBody = {},
): Promise<{ id: string; reference: string; version: number; documentIds: string[] }> {
  const draft = await createDraftApplication(t, family, hospitalId, overrides);
  const documentIds = await uploadRequiredDocuments(t, family, draft.id);
  const res = await t.http.post(`/api/v1/applications/${draft.id}/submit`).set(family.auth).send();
  if (res.status !== 200) throw new Error(`submitting failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: draft.id, reference: draft.reference, version: res.body.version, documentIds };
}

/** A second child (valid id, born 2018-03-07) for tests that need two different patients. */
export const OTHER_PATIENT_NATIONAL_ID = (() => {
  const first17 = '44030520180307002';
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((s, w, i) => s + w * Number(first17[i]), 0);
  return first17 + '10X98765432'[sum % 11];
})();

export const randomSuffix = () => randomUUID().slice(0, 8);
