/**
 * Families as the generator makes them: a pool of household/medical profiles (each with the means assessment the
 * app's own pure code computes for it), names, national ids and request bodies. Pure and deterministic.
 */
import { CONSENT_TEXT_VERSION, DIAGNOSES, RELATIONSHIPS, STATUS_FLAGS } from 'src/applications/application-fields';
import { nationalIdCheckCharacter } from 'src/applications/national-id';
import { toAssessmentInput } from 'src/applications/assessment-input';
import { assessMeans, MeansAssessment, MeansAssessmentInput } from 'src/assessment/means-assessment';
import { CN_REGION_CODES, MeansPolicy, TreatmentPlan } from 'src/assessment/means-policy';
import { MEANS_POLICY_VERSION_1 } from '../../migrations/1763700001000-Applications';
import { Rng } from './../lib/rng';

export type Profile = {
  index: number;
  patient: { sex: 'male' | 'female'; dateOfBirth: string; region: string; hukouType: 'urban' | 'rural' };
  guardian: { relationship: string; birthYear: number };
  household: { size: number; annualIncome: number; liquidAssets: number; debts: number; ownsVehicle: boolean; ownsExtraProperty: boolean; statusFlags: string[] };
  medical: {
    diagnosis: string;
    icd10: string;
    diagnosedOn: string;
    anc: number;
    platelets: number;
    reticulocytes: number;
    treatmentPlan: TreatmentPlan;
    estimatedCost: number;
    expectedReimbursement: number;
    otherAid: number;
  };
  inputs: Partial<MeansAssessmentInput>;
  assessment: MeansAssessment;
};

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '高', '林', '罗'];
const GIVEN = ['小明', '欣怡', '子涵', '浩然', '梓萱', '宇轩', '一诺', '思远', '雨桐', '俊杰', '佳怡', '晨曦', '梅', '强', '芳', '军', '丽', '伟', '静', '磊'];
const COST_BY_PLAN: Record<TreatmentPlan, [number, number]> = {
  hsct: [25_000_000, 60_000_000],
  ist: [8_000_000, 20_000_000],
  supportive: [2_000_000, 8_000_000],
};

export const BENCH_POLICY: MeansPolicy = MEANS_POLICY_VERSION_1 as unknown as MeansPolicy;

/** `count` profiles; profile k is the same for every run (its own seeded generator). */
export function makeProfiles(count: number, policy: MeansPolicy = BENCH_POLICY): Profile[] {
  return Array.from({ length: count }, (_, k) => makeProfile(k, policy));
}

export function makeProfile(index: number, policy: MeansPolicy = BENCH_POLICY): Profile {
  const rng = new Rng(0x5eed + index * 7919);
  const birthYear = rng.int(2008, 2023);
  const dateOfBirth = `${birthYear}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
  const hukouType = rng.chance(0.6) ? 'rural' : 'urban';
  const size = rng.int(2, 7);
  const treatmentPlan: TreatmentPlan = rng.chance(0.45) ? 'hsct' : rng.chance(0.6) ? 'ist' : 'supportive';
  const [low, high] = COST_BY_PLAN[treatmentPlan];
  const estimatedCost = roundTo(rng.int(low, high), 100_00);
  const expectedReimbursement = roundTo(Math.floor(estimatedCost * (0.3 + rng.next() * 0.35)), 100_00);
  const flags = rng.chance(0.35) ? [rng.pick(STATUS_FLAGS)] : [];
  const household = {
    size,
    annualIncome: roundTo(rng.int(0, 12_000_000), 100_00),
    liquidAssets: roundTo(rng.int(0, 5_000_000), 100_00),
    debts: rng.chance(0.4) ? roundTo(rng.int(0, 8_000_000), 100_00) : 0,
    ownsVehicle: rng.chance(0.08),
    ownsExtraProperty: rng.chance(0.03),
    statusFlags: flags,
  };
  const medical = {
    diagnosis: rng.pick(DIAGNOSES.filter((d) => d !== 'other')),
    icd10: 'D61.9',
    diagnosedOn: `${rng.int(Math.min(Math.max(birthYear, 2020), 2024), 2024)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`,
    anc: rng.int(50, 1500) / 1000,
    platelets: rng.int(3, 80),
    reticulocytes: rng.int(5, 60),
    treatmentPlan,
    estimatedCost,
    expectedReimbursement,
    otherAid: rng.chance(0.2) ? roundTo(rng.int(0, 2_000_000), 100_00) : 0,
  };
  const patient = { sex: rng.chance(0.5) ? ('male' as const) : ('female' as const), dateOfBirth, region: rng.pick(CN_REGION_CODES), hukouType: hukouType as 'urban' | 'rural' };
  const { input } = toAssessmentInput(
    { hospitalId: null, patient, guardian: {}, household, medical, consents: {}, patientNationalId: null, guardianNationalId: null } as never,
    { hasOtherOpenApplication: false, firstAppliedAt: new Date('2026-01-15T00:00:00Z') },
  );
  const assessment = assessMeans(input as MeansAssessmentInput, policy);
  return {
    index,
    patient,
    guardian: { relationship: rng.pick(RELATIONSHIPS.slice(0, 4)), birthYear: rng.int(1975, 1998) },
    household,
    medical,
    inputs: input,
    assessment,
  };
}

export function chineseName(n: number): string {
  return SURNAMES[n % SURNAMES.length] + GIVEN[Math.floor(n / SURNAMES.length) % GIVEN.length];
}

/**
 * A valid resident identity number (GB 11643) unique per (kind, n) for n < 900,000,000: the address code and
 * sequence carry n, the birth date is the person's.
 */
export function nationalId(kind: 'patient' | 'guardian', n: number, dateOfBirth: string): string {
  const address = (kind === 'patient' ? 110_000 : 500_000) + Math.floor(n / 1000) % 390_000;
  const first17 = `${address}${dateOfBirth.replace(/-/g, '')}${String(n % 1000).padStart(3, '0')}`;
  return first17 + nationalIdCheckCharacter(first17);
}

export function guardianBirthDate(profile: Profile): string {
  return `${profile.guardian.birthYear}-${profile.patient.dateOfBirth.slice(5)}`;
}

export function mobilePhone(n: number): string {
  return `13${String(100_000_000 + (n % 900_000_000)).padStart(9, '0')}`;
}

/** The POST /applications body of family n with profile p: complete, so it can be submitted once documents exist. */
export function applicationBody(profile: Profile, n: number, hospitalId: string): Record<string, unknown> {
  return {
    hospitalId,
    patient: { fullName: chineseName(n), ...profile.patient, nationalId: nationalId('patient', n, profile.patient.dateOfBirth) },
    guardian: {
      fullName: chineseName(n + 7),
      relationship: profile.guardian.relationship,
      nationalId: nationalId('guardian', n, guardianBirthDate(profile)),
      phone: mobilePhone(n),
    },
    household: profile.household,
    medical: profile.medical,
    consents: { sensitiveData: true, guardian: true, truthfulness: true, publicDisclosure: false },
  };
}

/** The stored consents jsonb of a complete application. */
export function consentRecords(recordedAt: string): Record<string, { given: boolean; recordedAt: string; textVersion: string }> {
  const given = (g: boolean) => ({ given: g, recordedAt, textVersion: CONSENT_TEXT_VERSION });
  return { sensitiveData: given(true), guardian: given(true), truthfulness: given(true), publicDisclosure: given(false) };
}

/** What the grant of an application of this profile is: the recommendation, or ¥5,000 when it recommends nothing. */
export function grantAmount(profile: Profile): number {
  return profile.assessment.recommendedAmount > 0 ? profile.assessment.recommendedAmount : 500_000;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function roundTo(value: number, unit: number): number {
  return Math.floor(value / unit) * unit;
}
