import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { hasAtMostDecimals, isRealPastDate, todayInChina } from 'src/applications/dto/field-validators';
import { ApplicationInputDto } from 'src/applications/dto/application-input.dto';
import { flattenValidationErrors } from 'src/common/validation/validation.pipe';

const now = new Date('2026-11-21T20:00:00Z'); // already 22 November in China

function errorFields(plain: object): string[] {
  const dto = plainToInstance(ApplicationInputDto, plain);
  return flattenValidationErrors(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true })).map((e) => e.field);
}

describe('dates', () => {
  it('uses the date in China', () => {
    expect(todayInChina(now)).toBe('2026-11-22');
    expect(isRealPastDate('2026-11-22', now)).toBe(true);
    expect(isRealPastDate('2026-11-23', now)).toBe(false);
  });

  it('refuses impossible and malformed dates', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '2024-04-31', '24-01-01', '2024-1-1', '1899-12-31', 20240101]) {
      expect(isRealPastDate(bad, now)).toBe(false);
    }
    expect(isRealPastDate('2024-02-29', now)).toBe(true);
  });
});

describe('ApplicationInputDto', () => {
  it('accepts the API.md example shape with valid ids', () => {
    expect(
      errorFields({
        patient: { fullName: '王小明', sex: 'male', dateOfBirth: '2019-05-01', nationalId: '310101201905010015', region: 'CN-SH', hukouType: 'rural' },
        guardian: { fullName: '李梅', relationship: 'mother', nationalId: '310101198801010024', phone: '13800000000' },
        household: { size: 4, annualIncome: 4800000, liquidAssets: 1000000, debts: 0, ownsVehicle: false, ownsExtraProperty: false, statusFlags: ['dibao'] },
        medical: { diagnosis: 'acquired_aplastic_anemia', icd10: 'D61.9', diagnosedOn: '2025-09-01', anc: 0.3, platelets: 15, reticulocytes: 18, treatmentPlan: 'hsct', estimatedCost: 40000000, expectedReimbursement: 22000000, otherAid: 0 },
        consents: { sensitiveData: true, guardian: true, truthfulness: true, publicDisclosure: false },
      }),
    ).toEqual([]);
  });

  it('names each bad field', () => {
    const fields = errorFields({
      hospitalId: 'x',
      patient: { nationalId: '31010120190501001', sex: 'other', region: 'CN-XX', hukouType: 'city', dateOfBirth: '2999-01-01', extra: 1 },
      guardian: { phone: '12345', nationalId: '310101198813010022' },
      household: { size: 21, annualIncome: 1.5, liquidAssets: -1, debts: 1_000_000_000_001, statusFlags: ['rich'], ownsVehicle: 'no' },
      medical: { anc: -0.1, platelets: 'many', estimatedCost: '100', treatmentPlan: 'magic', icd10: 'aplastic' },
      consents: { sensitiveData: 'yes' },
    });
    expect([...new Set(fields)].sort()).toEqual(
      [
        'hospitalId',
        'patient.nationalId',
        'patient.sex',
        'patient.region',
        'patient.hukouType',
        'patient.dateOfBirth',
        'patient.extra',
        'guardian.phone',
        'guardian.nationalId',
        'household.size',
        'household.annualIncome',
        'household.liquidAssets',
        'household.debts',
        'household.statusFlags',
        'household.ownsVehicle',
        'medical.anc',
        'medical.platelets',
        'medical.estimatedCost',
        'medical.treatmentPlan',
        'medical.icd10',
        'consents.sensitiveData',
      ].sort(),
    );
  });

  it('normalizes ids and phone numbers as people type them', () => {
    const dto = plainToInstance(ApplicationInputDto, { patient: { nationalId: ' 11010519491231002x ' }, guardian: { phone: '138 0000-0000' } });
    expect(dto.patient?.nationalId).toBe('11010519491231002X');
    expect(dto.guardian?.phone).toBe('13800000000');
    const phoneOf = (phone: string) => plainToInstance(ApplicationInputDto, { guardian: { phone } }).guardian?.phone;
    expect(['0086 138 0000 0000', '+86 (138) 0000.0000', '(139) 1234 5678', '(010) 1234-5678'].map(phoneOf)).toEqual([
      '+8613800000000',
      '+8613800000000',
      '13912345678',
      '01012345678',
    ]);
    expect(errorFields({ guardian: { phone: '0086 138 0000 0000' } })).toEqual([]);
    expect(errorFields({ guardian: { phone: '0086 10 1234 5678' } })).toEqual(['guardian.phone']); // no landline abroad form
  });

  it('accepts household sizes 1 and 20, money 0 and 10^12', () => {
    expect(errorFields({ household: { size: 1, annualIncome: 0, debts: 1_000_000_000_000 } })).toEqual([]);
    expect(errorFields({ household: { size: 20 } })).toEqual([]);
    expect(errorFields({ household: { size: 0 } })).toEqual(['household.size']);
  });

  it('takes lab values with up to 3 decimals and refuses exponent-form numbers instead of crashing', () => {
    expect(errorFields({ medical: { anc: 0.3, platelets: 15, reticulocytes: 0.125 } })).toEqual([]);
    expect(errorFields({ medical: { anc: 0.0005 } })).toEqual(['medical.anc']);
    for (const tiny of [5e-324, 1e-7, 2.5e-10]) expect(errorFields({ medical: { anc: tiny, platelets: tiny } })).toEqual(['medical.anc', 'medical.platelets']);
    expect(hasAtMostDecimals(1e21, 3)).toBe(true);
    expect(hasAtMostDecimals(Number.NaN, 3)).toBe(false);
    expect(hasAtMostDecimals('1.5', 3)).toBe(false);
  });
});
