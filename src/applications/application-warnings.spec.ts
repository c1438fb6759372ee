import { EMPTY_STATE } from 'src/applications/application-sections';
import { applicationWarnings, completedYears } from 'src/applications/application-warnings';

const now = new Date('2026-11-21T12:00:00Z');

describe('completedYears', () => {
  it('counts a year only once the birthday is reached', () => {
    expect(completedYears('2008-11-21', '2026-11-21')).toBe(18);
    expect(completedYears('2008-11-22', '2026-11-21')).toBe(17);
    expect(completedYears('2008-02-29', '2026-02-28')).toBe(17);
    expect(completedYears('2026-11-21', '2026-11-21')).toBe(0);
  });
});

describe('applicationWarnings', () => {
  const fields = (state: typeof EMPTY_STATE) => applicationWarnings(state, 18, now).map((w) => w.field);

  it('warns for a patient of 19 completed years, not for one of 18 years and 364 days', () => {
    expect(fields({ ...EMPTY_STATE, patient: { dateOfBirth: '2007-11-21' } })).toEqual(['patient.dateOfBirth']);
    expect(fields({ ...EMPTY_STATE, patient: { dateOfBirth: '2007-11-22' } })).toEqual([]);
    expect(fields({ ...EMPTY_STATE, patient: { dateOfBirth: '2026-11-21' } })).toEqual([]);
  });

  it("takes the age limit from the policy, and warns of no age without one", () => {
    const nineteen = { ...EMPTY_STATE, patient: { dateOfBirth: '2007-11-21' } };
    expect(applicationWarnings(nineteen, 19, now)).toEqual([]);
    expect(applicationWarnings(nineteen, 16, now)).toEqual([{ field: 'patient.dateOfBirth', message: expect.stringContaining('older than 16') }]);
    expect(applicationWarnings(nineteen, null, now)).toEqual([]);
  });

  it('counts the age on the day the family first applied, as the assessment does', () => {
    const turned19Since = { ...EMPTY_STATE, patient: { dateOfBirth: '2007-11-01' } }; // 19 on `now`, 18 on 2026-10-20
    expect(applicationWarnings(turned19Since, 18, now, new Date('2026-10-20T04:00:00Z'))).toEqual([]);
    expect(applicationWarnings(turned19Since, 18, now, null).map((w) => w.field)).toEqual(['patient.dateOfBirth']);
  });

  it('warns when the birth date or sex disagrees with the national id', () => {
    const state = { ...EMPTY_STATE, patient: { dateOfBirth: '2019-05-02', sex: 'female' as const }, patientNationalId: '310101201905010015' };
    expect(fields(state)).toEqual(['patient.dateOfBirth', 'patient.sex']);
    expect(fields({ ...state, patient: { dateOfBirth: '2019-05-01', sex: 'male' } })).toEqual([]);
  });

  it('warns for a diagnosis before birth and a guardian with the patient’s id', () => {
    const state = {
      ...EMPTY_STATE,
      patient: { dateOfBirth: '2019-05-01' },
      medical: { diagnosedOn: '2019-04-30' },
      patientNationalId: '310101201905010015',
      guardianNationalId: '310101201905010015',
    };
    expect(fields(state)).toEqual(['guardian.nationalId', 'medical.diagnosedOn']);
  });

  it('warns, without refusing, for a check character that does not fit (the sample ids of API.md)', () => {
    const state = { ...EMPTY_STATE, patient: { dateOfBirth: '2019-05-01', sex: 'male' as const }, patientNationalId: '310101201905010011', guardianNationalId: '310101198801010022' };
    expect(fields(state)).toEqual(['patient.nationalId', 'guardian.nationalId']);
    expect(fields({ ...state, patientNationalId: '310101201905010015', guardianNationalId: '310101198801010024' })).toEqual([]);
  });
});
