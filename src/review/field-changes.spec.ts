import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { EMPTY_STATE, ApplicationState } from 'src/applications/application-sections';
import { changedFields, DocumentRef, fieldValues, hashFields } from 'src/review/field-changes';

const keyed = (text: string) => createHmac('sha256', 'test-key').update(text).digest('hex');

const base: ApplicationState = {
  ...EMPTY_STATE,
  hospitalId: '6f0c6f58-0b39-4a8a-9d9e-2b3a5b1c0d11',
  patient: { fullName: '王小明', sex: 'male', dateOfBirth: '2019-05-01', region: 'CN-GS', hukouType: 'rural' },
  guardian: { fullName: '李梅', relationship: 'mother', phone: '13800000000' },
  household: { size: 4, annualIncome: 4_800_000, liquidAssets: 1_000_000, debts: 0, statusFlags: [] },
  medical: { treatmentPlan: 'hsct', estimatedCost: 40_000_000 },
  consents: { sensitiveData: { given: true, recordedAt: '2026-01-01T00:00:00Z', textVersion: '1' } },
  patientNationalId: '310101201905010015',
  guardianNationalId: '310101198801010024',
};
const docs: DocumentRef[] = [
  { id: 'b', type: 'income_proof' as const },
  { id: 'a', type: 'income_proof' as const },
  { id: 'c', type: 'guardian_id' as const },
];
const snapshot = (state: ApplicationState, documents: DocumentRef[] = docs) => hashFields(fieldValues(state, documents), keyed);

describe('field changes between an information request and the answer', () => {
  it('lists nothing when nothing changed, whatever the document order or consent timestamps', () => {
    const again = { ...base, consents: { sensitiveData: { given: true, recordedAt: '2026-02-02T00:00:00Z', textVersion: '2' } } };
    expect(changedFields(snapshot(base), snapshot(again, [...docs].reverse()))).toEqual([]);
  });

  it('names exactly the changed, added and cleared fields, national ids and document types included', () => {
    const after: ApplicationState = {
      ...base,
      household: { ...base.household, annualIncome: 3_600_000, ownsVehicle: false },
      medical: { treatmentPlan: 'hsct' },
      guardianNationalId: '310101198801010032',
    };
    const newDocs = [...docs, { id: 'd', type: 'poverty_certificate' as const }];
    expect(changedFields(snapshot(base), snapshot(after, newDocs))).toEqual([
      'documents.poverty_certificate',
      'guardian.nationalId',
      'household.annualIncome',
      'household.ownsVehicle',
      'medical.estimatedCost',
    ]);
  });

  it('stores no value, only keyed hashes', () => {
    const stored = JSON.stringify(snapshot(base));
    for (const secret of ['310101201905010015', '310101198801010024', '王小明', '4800000', '13800000000']) expect(stored).not.toContain(secret);
    expect(Object.values(snapshot(base)).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('is symmetric, empty on equal snapshots, and finds any single changed income', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e12 }), (a, b) => {
        const one = snapshot({ ...base, household: { ...base.household, annualIncome: a } });
        const two = snapshot({ ...base, household: { ...base.household, annualIncome: b } });
        expect(changedFields(one, two)).toEqual(changedFields(two, one));
        expect(changedFields(one, one)).toEqual([]);
        expect(changedFields(one, two)).toEqual(a === b ? [] : ['household.annualIncome']);
      }),
    );
  });
});
