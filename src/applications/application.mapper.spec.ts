import { Application } from 'src/applications/application.entity';
import { toApplicationDto, toListItemDto } from 'src/applications/application.mapper';
import { ROLES } from 'src/common/auth/roles';

const app = Object.assign(new Application(), {
  id: 'a1',
  reference: 'SPR-2026-000001',
  applicantId: 'u1',
  hospitalId: 'h1',
  status: 'submitted',
  version: 3,
  patient: { fullName: '王小明', sex: 'male', dateOfBirth: '2019-05-01', region: 'CN-GS', hukouType: 'rural', injected: 'x' },
  guardian: { fullName: '李梅', relationship: 'mother', phone: '13800000000' },
  household: { size: 4, annualIncome: 4800000 },
  medical: { diagnosis: 'acquired_aplastic_anemia' },
  consents: { sensitiveData: { given: true, recordedAt: '2026-01-01T00:00:00.000Z', textVersion: 'v' } },
  patientNationalIdEnc: 'v1.secret',
  patientNationalIdHash: 'f'.repeat(64),
  guardianNationalIdEnc: 'v1.secret2',
  submittedAt: new Date('2026-01-02T00:00:00Z'),
  assessmentTier: 'B',
  recommendedAmount: 10_000_000,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-02T00:00:00Z'),
}) as Application;
const ids = { patient: '310101201905010015', guardian: '310101198801010024' };

describe('toApplicationDto', () => {
  it('never publishes ciphertext, hashes or unknown section fields, for any role', () => {
    for (const role of ROLES) {
      const json = JSON.stringify(toApplicationDto(app, role, ids, []));
      expect(json).not.toContain('v1.secret');
      expect(json).not.toContain('f'.repeat(64));
      expect(json).not.toContain('injected');
      expect(json).not.toContain('applicantId');
    }
  });

  it('gives the family, reviewers and admins everything', () => {
    for (const role of ['applicant', 'reviewer', 'admin'] as const) {
      const dto = toApplicationDto(app, role, ids, []);
      expect(dto.patient.nationalId).toBe(ids.patient);
      expect(dto.guardian?.nationalId).toBe(ids.guardian);
      expect(dto.household).toEqual({ size: 4, annualIncome: 4800000 });
      expect(dto).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000, consents: { sensitiveData: true } });
    }
  });

  it('gives finance roles the reference, status and name only, and hospital finance no assessment', () => {
    const hospital = toApplicationDto(app, 'hospital_finance', ids, []);
    expect(Object.keys(hospital).sort()).toEqual(['createdAt', 'hospitalId', 'id', 'patient', 'reference', 'status', 'submittedAt', 'updatedAt', 'version']);
    expect(hospital.patient).toEqual({ fullName: '王小明' });
    const fund = toApplicationDto(app, 'fund_finance', ids, []);
    expect(fund).not.toHaveProperty('household');
    expect(fund).not.toHaveProperty('medical');
    expect(fund.patient).toEqual({ fullName: '王小明' });
    expect(fund).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000 });
  });

  it('lists without sections, and without the assessment for hospital finance', () => {
    const times = { submittedAt: '2026-01-02T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' };
    const row = { ...app, ...times, patientName: '王小明', cursorKey: '2026-01-02T00:00:00.000000Z', conflicted: false };
    expect(toListItemDto(row, 'hospital_finance')).not.toHaveProperty('tier');
    expect(toListItemDto(row, 'hospital_finance')).not.toHaveProperty('conflictOfInterest');
    expect(toListItemDto(row, 'reviewer')).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000, patientName: '王小明', conflictOfInterest: false });
    expect(JSON.stringify(toListItemDto(row, 'reviewer'))).not.toMatch(/v1\.secret|household|cursorKey/);
  });

  it("lists an application the user's conflict of interest bars them from without the child's name or the assessment", () => {
    const times = { submittedAt: '2026-01-02T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' };
    const row = { ...app, ...times, patientName: '王小明', cursorKey: '2026-01-02T00:00:00.000000Z', conflicted: true };
    for (const role of ['reviewer', 'admin'] as const) {
      expect(toListItemDto(row, role)).toMatchObject({ reference: app.reference, patientName: null, tier: null, recommendedAmount: null, conflictOfInterest: true });
    }
  });
});
