import { AccessTokens } from 'src/auth/access-tokens';
import { validateEnv } from 'src/config/env.schema';
import { plainToInstance } from 'class-transformer';
import { isUUID, validateSync } from 'class-validator';
import { ApplicationInputDto } from 'src/applications/dto/application-input.dto';
import { isValidNationalId } from 'src/applications/national-id';
import { missingForSubmission } from 'src/applications/submission-completeness';
import { mergeInput, EMPTY_STATE } from 'src/applications/application-sections';
import { parseCamt053 } from 'src/reconciliation/parsers/camt053.parser';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';
import { trancheReference } from 'src/disbursements/tranche-reference';
import { benchAccessTokens, BENCH_TOKEN_TTL_SECONDS } from '../lib/tokens';
import { camt053Chunks, yuan } from './camt053';
import { benchUuid } from './ids';
import { applicationReference, deepQueuePage, GRANT_SEGMENTS, MAX_TRANCHE_SERIAL, planSeed, segmentOf, STATUS_SEGMENTS, TRANCHE_SEGMENTS } from './plan';
import { applicationBody, grantAmount, guardianBirthDate, makeProfile, makeProfiles, nationalId } from './profiles';
import { profileIndex } from './seed';
import { inSegments, segmentCase, sqlText } from './sql';

describe('seed plan', () => {
  it.each([1, 0.1, 0.01, 0.0005])('at scale %s partitions 1..N into contiguous status segments', (scale) => {
    const plan = planSeed(scale);
    expect(plan.segments[0].first).toBe(1);
    for (let k = 1; k < plan.segments.length; k++) expect(plan.segments[k].first).toBe(plan.segments[k - 1].last + 1);
    expect(plan.segments[plan.segments.length - 1].last).toBe(plan.applications);
    expect(plan.segments.reduce((sum, s) => sum + s.count, 0)).toBe(plan.applications);
    expect(plan.segments.every((s) => s.count >= 1)).toBe(true);
    expect(plan.statementEntries).toBeLessThanOrEqual(plan.segments.find((s) => s.name === 'completed')!.count);
  });

  it('holds the issue\'s national scale at scale 1', () => {
    const plan = planSeed(1);
    expect(plan.applications).toBe(1_000_000);
    expect(plan.hospitals).toBe(200);
    expect(plan.reconTranches).toBe(200_000);
    expect(plan.statementEntries).toBe(50_000);
    expect(deepQueuePage(plan)).toBe(10_000);
  });

  it('keeps every application that needs a tranche below the 6-digit serial limit of tranche references', () => {
    for (const scale of [1, 1.05]) {
      const plan = planSeed(scale);
      for (const seg of plan.segments.filter((s) => TRANCHE_SEGMENTS.includes(s.name))) {
        expect(seg.last).toBeLessThanOrEqual(MAX_TRANCHE_SERIAL);
        expect(() => trancheReference(applicationReference(2026, seg.last), 1)).not.toThrow();
      }
    }
  });

  it('has the newest applications as drafts and the oldest finished', () => {
    const plan = planSeed(0.01);
    expect(segmentOf(plan, 1).name).toBe('completed');
    expect(segmentOf(plan, plan.applications).status).toBe('draft');
    expect(segmentOf(plan, plan.segments.find((s) => s.name === 'disbursing_recon')!.first).status).toBe('disbursing');
    expect(() => segmentOf(plan, plan.applications + 1)).toThrow(RangeError);
  });

  it('writes SQL fragments that mirror the segments', () => {
    const plan = planSeed(0.0005);
    const sql = segmentCase(plan);
    expect(sql.match(/WHEN i <= /g)).toHaveLength(STATUS_SEGMENTS.length);
    expect(sql).toContain(`WHEN i <= ${plan.segments[0].last} THEN 'completed'`);
    const grants = inSegments(plan, GRANT_SEGMENTS, 't.i');
    expect(grants.match(/BETWEEN/g)).toHaveLength(GRANT_SEGMENTS.length);
    expect(inSegments(plan, [])).toBe('false');
    expect(sqlText("O'Brien")).toBe("'O''Brien'");
  });

  it('pads references to six digits and grows past them, like the application sequence', () => {
    expect(applicationReference(2026, 42)).toBe('SPR-2026-000042');
    expect(applicationReference(2026, 1_000_000)).toBe('SPR-2026-1000000');
  });

  it('makes tranche references past the millionth application too (the limit this suite once documented is gone)', () => {
    expect(() => trancheReference(applicationReference(2026, 999_999), 1)).not.toThrow();
    expect(trancheReference(applicationReference(2026, 1_000_000), 1)).toBe('SPR-2026-1000000-1');
  });
});

describe('profiles and request bodies', () => {
  const profiles = makeProfiles(60);

  it('is deterministic', () => {
    expect(makeProfile(17)).toEqual(makeProfile(17));
  });

  it('gives awaiting-second-approval applications an hsct profile and everyone else (i·31) mod P', () => {
    const plan = planSeed(0.01);
    const all = makeProfiles(plan.profiles);
    const hsct = all.filter((p) => p.medical.treatmentPlan === 'hsct').map((p) => p.index);
    const awaiting = plan.segments.find((s) => s.name === 'awaiting_second_approval')!;
    for (let i = awaiting.first; i <= awaiting.last; i++) expect(all[profileIndex(plan, i, hsct)].medical.treatmentPlan).toBe('hsct');
    expect(profileIndex(plan, 5, hsct)).toBe(155 % plan.profiles);
  });

  it('makes bodies that POST /applications accepts and that are complete for submission', () => {
    for (const [k, profile] of profiles.entries()) {
      const body = applicationBody(profile, 1_000_000 + k, benchUuid('h', 1));
      const dto = plainToInstance(ApplicationInputDto, body);
      const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
      expect(errors.map((e) => e.toString())).toEqual([]);
      const { state } = mergeInput(EMPTY_STATE, dto, new Date());
      const missing = missingForSubmission({
        state,
        emailVerified: true,
        documentTypes: new Set(['diagnosis_certificate', 'cost_estimate', 'guardian_id', 'household_register', 'income_proof']),
      });
      expect(missing).toEqual([]);
    }
  });

  it('computes the means assessment with the app\'s own policy code, and grants within the plan\'s cap', () => {
    const caps = { hsct: 10_000_000, ist: 5_000_000, supportive: 2_000_000 };
    for (const p of profiles) {
      expect(['A', 'B', 'C', 'ineligible']).toContain(p.assessment.tier);
      expect(p.assessment.recommendedAmount).toBeLessThanOrEqual(caps[p.medical.treatmentPlan]);
      expect(grantAmount(p)).toBeGreaterThan(0);
      expect(grantAmount(p)).toBeLessThanOrEqual(caps[p.medical.treatmentPlan]);
      expect(Number.isSafeInteger(p.household.annualIncome)).toBe(true);
    }
    expect(new Set(profiles.map((p) => p.assessment.tier)).size).toBeGreaterThan(1);
  });

  it('makes valid, distinct national ids whose birth date is the person\'s', () => {
    const seen = new Set<string>();
    for (const n of [1, 2, 999, 1000, 1001, 123_456, 999_999, 1_000_000, 5_000_000]) {
      const profile = profiles[n % profiles.length];
      const patient = nationalId('patient', n, profile.patient.dateOfBirth);
      const guardian = nationalId('guardian', n, guardianBirthDate(profile));
      for (const id of [patient, guardian]) {
        expect(isValidNationalId(id)).toBe(true);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      expect(patient.slice(6, 14)).toBe(profile.patient.dateOfBirth.replace(/-/g, ''));
    }
  });
});

describe('ids and tokens', () => {
  it('derives version-4-shaped uuids deterministically, distinct per kind and number', () => {
    const id = benchUuid('a', 1);
    expect(isUUID(id, 4)).toBe(true);
    expect(benchUuid('a', 1)).toBe(id);
    expect(benchUuid('u', 1)).not.toBe(id);
    expect(benchUuid('a', 2)).not.toBe(id);
    // md5("a:1") = 9ef12b2e76052ea01bf394a79518fe90 with the version nibble forced to 4 and the variant nibble to 8;
    // this is what bench_uuid('a', 1) returns in PostgreSQL (checked with psql), so SQL and Node agree.
    expect(id).toBe('9ef12b2e-7605-4ea0-8bf3-94a79518fe90');
  });

  it('mints access tokens that the service\'s JWT verification accepts, lasting a whole run', () => {
    const secret = 'x'.repeat(48);
    const claims = { sub: benchUuid('u', 1), sid: benchUuid('s', 1), tv: 0 };
    const token = benchAccessTokens(secret).sign(claims);
    // Verified as TokenService verifies, with the service's settings when the bench starts it (defaults and its secret).
    const env = validateEnv({ JWT_SECRET: secret });
    const service = (key: string) => new AccessTokens({ secret: key, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS });
    expect(service(secret).verify(token)).toEqual(claims);
    expect(service('y'.repeat(48)).verify(token)).toBeNull();
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(BENCH_TOKEN_TTL_SECONDS);
  });
});

describe('camt.053 statement', () => {
  it('is read back by the app\'s parser, one credit entry per tranche with its reference and exact amount', async () => {
    const entries = Array.from({ length: 1200 }, (_, k) => ({ reference: `SPR-2026-${String(k + 1).padStart(6, '0')}-1`, amount: 100 * k + (k % 100), bookingDate: '2026-11-20', bankReference: `B${k}` }));
    async function* source() {
      for (const chunk of camt053Chunks({ statementId: 'STMT-T', account: '6217000000007919', createdAt: '2026-11-21T06:00:00+08:00', entries }, 100)) yield Buffer.from(chunk);
    }
    const parsed: ParsedStatementEntry[] = [];
    for await (const item of parseCamt053(source())) if (item.kind === 'entry') parsed.push(item.entry);
    expect(parsed).toHaveLength(entries.length);
    parsed.forEach((entry, k) => {
      expect(entry).toMatchObject({ amount: entries[k].amount, creditDebit: 'CRDT', currency: 'CNY', endToEndId: entries[k].reference, accountServicerReference: `B${k}`, bookingDate: '2026-11-20' });
      expect(entry.remittance).toContain(entries[k].reference);
    });
  });

  it('writes fen as yuan with integer arithmetic', () => {
    expect(yuan(0)).toBe('0.00');
    expect(yuan(5)).toBe('0.05');
    expect(yuan(10_000_000)).toBe('100000.00');
    expect(yuan(123_456_789)).toBe('1234567.89');
    expect(() => yuan(1.5)).toThrow(RangeError);
    expect(() => yuan(-1)).toThrow(RangeError);
  });
});
