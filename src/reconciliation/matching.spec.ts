import fc from 'fast-check';
import { MatchCandidate, classifyEntry, entryReferences, findReferences } from 'src/reconciliation/matching';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

const HOSPITAL = 'hospital-1';
const OTHER_HOSPITAL = 'hospital-2';
const REF = 'SPR-2026-000123-1';

const credit = (overrides: Partial<ParsedStatementEntry> = {}): ParsedStatementEntry => ({
  index: 0,
  location: 'line 2',
  bookingDate: '2026-03-02',
  amount: 5_000_000,
  creditDebit: 'CRDT',
  currency: 'CNY',
  status: 'BOOK',
  remittance: `Grant ${REF}`,
  structuredReferences: [],
  ...overrides,
});

const paid = (overrides: Partial<MatchCandidate> = {}): MatchCandidate => ({
  id: 'disbursement-1',
  amount: 5_000_000,
  status: 'paid',
  hospitalId: HOSPITAL,
  ...overrides,
});

const candidates = (...entries: [string, MatchCandidate][]) => new Map(entries);
const classify = (entry: ParsedStatementEntry, map = candidates([REF, paid()]), seen = new Set<string>()) =>
  classifyEntry(entry, map, HOSPITAL, seen);

describe('findReferences', () => {
  it.each([
    ['Grant SPR-2026-000123-1 first tranche', [REF]],
    ['spr-2026-000123-1', [REF]],
    ['SPR 2026 000123 1', [REF]],
    ['SPR  2026\t000123 1', [REF]],
    ['SPR20260001231', [REF]],
    ['SPR202600012312', ['SPR-2026-000123-12']],
    ['ＳＰＲ－２０２６－０００１２３－１', [REF]],
    ['SPR–2026–000123–1', [REF]],
    ['拨款SPR-2026-000123-1第一期', [REF]],
    ['(SPR-2026-000123-1),SPR-2026-000124-2;SPR-2026-000123-1', [REF, 'SPR-2026-000124-2']],
    ['SPR-2026-000123-12', ['SPR-2026-000123-12']],
    ['SPR-2026-000123-1.00', [REF]],
  ])('finds %p', (text, expected) => {
    expect(findReferences(text)).toEqual(expected);
  });

  it.each([
    'SPR-2026-000123-12345',
    'SPR-2026-0001234-1',
    'SPR-20261-000123-1',
    'SPR-2026-00123-1',
    'XSPR-2026-000123-1',
    '1SPR-2026-000123-1',
    'SPR-2026-000123-1A',
    'SPR2026-000123-1',
    'SPR-2026-000123',
    'SPR_2026_000123_1',
    '',
  ])('finds nothing in %p', (text) => {
    expect(findReferences(text)).toEqual([]);
  });

  const reference = fc
    .tuple(fc.integer({ min: 2000, max: 2099 }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 1, max: 99 }))
    .map(([year, serial, tranche]) => `SPR-${year}-${String(serial).padStart(6, '0')}-${tranche}`);
  const filler = fc.string({ unit: fc.constantFrom(' ', 'a', 'Z', '-', '/', '拨', '款', ',', '.') });

  it('finds any reference written with hyphens, spaces or none, in any case, amid other text', () => {
    fc.assert(
      fc.property(reference, fc.constantFrom('-', ' ', ''), fc.boolean(), filler, filler, (ref, separator, lower, before, after) => {
        const written = ref.replace(/-/g, separator);
        const text = `${before} ${lower ? written.toLowerCase() : written} ${after}`;
        expect(findReferences(text)).toContain(ref);
      }),
    );
  });

  it('never finds a reference inside a longer number', () => {
    fc.assert(
      fc.property(reference, fc.integer({ min: 0, max: 9 }), filler, (ref, digit, after) => {
        expect(findReferences(`${ref}${digit}${after}`)).not.toContain(ref);
      }),
    );
  });
});

describe('entryReferences', () => {
  it('looks in the remittance, structured references, end-to-end id and additional info, once each', () => {
    const entry = credit({
      remittance: 'SPR-2026-000001-1',
      structuredReferences: ['SPR-2026-000002-1'],
      endToEndId: 'SPR20260000031',
      additionalInfo: 'SPR-2026-000004-1 SPR-2026-000001-1',
      counterparty: 'SPR-2026-000005-1',
      accountServicerReference: 'SPR-2026-000006-1',
    });
    expect(entryReferences(entry)).toEqual(['SPR-2026-000001-1', 'SPR-2026-000002-1', 'SPR-2026-000003-1', 'SPR-2026-000004-1']);
  });
});

describe('classifyEntry', () => {
  it('matches a booked CNY credit carrying the reference of a paid disbursement of the hospital for the same amount', () => {
    expect(classify(credit())).toEqual({ status: 'matched', reference: REF, disbursementId: 'disbursement-1' });
  });

  it.each([
    ['structured reference', { remittance: '', structuredReferences: [REF] }],
    ['end-to-end id', { remittance: '', endToEndId: REF }],
    ['additional info', { remittance: '', additionalInfo: `CNAPS ${REF}` }],
    ['CSV entry without a status', { status: undefined }],
  ])('matches by the %s', (_where, overrides) => {
    expect(classify(credit(overrides)).status).toBe('matched');
  });

  it.each([
    ['a debit', { creditDebit: 'DBIT' as const, remittance: 'Bank charges' }, 'a debit'],
    ['a reversal', { reversal: true as const, remittance: 'Correction' }, 'a reversal'],
    ['another currency', { currency: 'EUR' }, 'in EUR, not CNY'],
    ['a pending entry', { status: 'PDNG' }, 'not booked (status PDNG)'],
    ['a debit naming a returned tranche (its return is recorded)', { creditDebit: 'DBIT' as const }, 'a debit'],
  ])('ignores %s', (name, overrides, reason) => {
    const map = name.includes('returned') ? candidates([REF, paid({ status: 'returned' })]) : undefined;
    expect(classify(credit(overrides), map)).toEqual({ status: 'ignored', reason });
  });

  it.each([
    ['a debit', { creditDebit: 'DBIT' as const }, 'paid'],
    ['a reversal (RvslInd) of the credit', { creditDebit: 'DBIT' as const, reversal: true as const }, 'reconciled'],
    ['a reversed debit', { reversal: true as const }, 'paid'],
  ])('flags %s naming a tranche held as paid or reconciled: the money may have gone back', (_name, overrides, status) => {
    const result = classify(credit(overrides), candidates([REF, paid({ status })]));
    expect(result).toEqual({ status: 'mismatched', reference: REF, disbursementId: 'disbursement-1', takenBack: [REF], reason: expect.stringContaining(`${status} disbursement`) });
    // Never for another hospital's tranche, nor for a pending or foreign-currency entry.
    expect(classifyEntry(credit(overrides), candidates([REF, paid({ status, hospitalId: OTHER_HOSPITAL })]), HOSPITAL, new Set()).status).toBe('ignored');
    expect(classify(credit({ ...overrides, status: 'PDNG' }), candidates([REF, paid({ status })])).status).toBe('ignored');
    expect(classify(credit({ ...overrides, currency: 'EUR' }), candidates([REF, paid({ status })])).status).toBe('ignored');
  });

  it('flags a debit or reversal naming several paid or reconciled tranches, about none alone, naming every one taken back', () => {
    const [ref2, ref3] = ['SPR-2026-000123-2', 'SPR-2026-000123-3'];
    const map = candidates([REF, paid()], [ref2, paid({ id: 'disbursement-2', status: 'reconciled' })], [ref3, paid({ id: 'disbursement-3', status: 'scheduled' })]);
    for (const overrides of [{ creditDebit: 'DBIT' as const }, { creditDebit: 'DBIT' as const, reversal: true as const }]) {
      const result = classify(credit({ ...overrides, remittance: `Return ${REF} ${ref2} ${ref3}` }), map);
      expect(result).toEqual({ status: 'mismatched', takenBack: [REF, ref2], reason: expect.stringContaining(`${REF}, ${ref2}:`) });
    }
  });

  it('holds back a credit for a paid tranche that a debit or reversal imported earlier names', () => {
    expect(classify(credit(), candidates([REF, paid({ takenBack: true })]))).toEqual({
      status: 'mismatched',
      reference: REF,
      disbursementId: 'disbursement-1',
      reason: expect.stringContaining('sent back'),
    });
  });

  it('calls the same reference with another amount mismatched', () => {
    expect(classify(credit({ amount: 4_999_999 }))).toEqual({
      status: 'mismatched',
      reference: REF,
      disbursementId: 'disbursement-1',
      reason: "amount 4999999 differs from the disbursement's 5000000 (minor units)",
    });
  });

  it.each(['reconciled', 'scheduled', 'cancelled', 'returned'])('calls another amount mismatched for a %s disbursement too', (status) => {
    expect(classify(credit({ amount: 50_000 }), candidates([REF, paid({ status })]))).toEqual({
      status: 'mismatched',
      reference: REF,
      disbursementId: 'disbursement-1',
      reason: "amount 50000 differs from the disbursement's 5000000 (minor units)",
    });
  });

  it('calls another amount mismatched after an earlier entry of the statement matched the reference', () => {
    expect(classify(credit({ amount: 50_000 }), undefined, new Set([REF]))).toMatchObject({ status: 'mismatched', disbursementId: 'disbursement-1' });
  });

  it('leaves unmatched a credit booked before the day a tranche whose payment was returned was paid again', () => {
    const repaid = candidates([REF, paid({ paidAgainOn: '2026-03-05' })]);
    expect(classify(credit({ bookingDate: '2026-03-04' }), repaid)).toEqual({
      status: 'unmatched',
      reference: REF,
      reason: expect.stringContaining('before the disbursement was paid again on 2026-03-05'),
    });
    expect(classify(credit({ bookingDate: '2026-03-05' }), repaid).status).toBe('matched');
    expect(classify(credit({ bookingDate: '2026-03-04', amount: 1 }), repaid).status).toBe('mismatched');
  });

  it('calls a second entry for a reference matched earlier in the statement a duplicate', () => {
    expect(classify(credit(), undefined, new Set([REF]))).toMatchObject({ status: 'duplicate', disbursementId: 'disbursement-1' });
  });

  it('calls a credit for an already reconciled disbursement a duplicate', () => {
    expect(classify(credit(), candidates([REF, paid({ status: 'reconciled' })]))).toMatchObject({
      status: 'duplicate',
      reason: 'the disbursement is already reconciled',
    });
  });

  it.each(['scheduled', 'cancelled', 'returned'])('leaves a credit for a %s disbursement unmatched', (status) => {
    expect(classify(credit(), candidates([REF, paid({ status })]))).toEqual({
      status: 'unmatched',
      reference: REF,
      reason: `the disbursement is ${status}, not paid`,
    });
  });

  it('treats another hospital’s disbursement like an unknown reference', () => {
    const foreign = classify(credit(), candidates([REF, paid({ hospitalId: OTHER_HOSPITAL })]));
    const unknown = classify(credit(), candidates());
    expect(foreign).toEqual(unknown);
    expect(foreign).toEqual({ status: 'unmatched', reference: REF, reason: 'no disbursement of this hospital has this reference' });
  });

  it('leaves an entry without any reference unmatched', () => {
    expect(classify(credit({ remittance: 'donation' }))).toEqual({ status: 'unmatched', reason: 'no Sprout reference' });
  });

  it('leaves an entry naming two disbursements of the hospital unmatched, and ignores references that are not the hospital’s', () => {
    const second = 'SPR-2026-000123-2';
    const entry = credit({ remittance: `${REF} ${second}` });
    expect(classify(entry, candidates([REF, paid()], [second, paid({ id: 'disbursement-2' })]))).toEqual({
      status: 'unmatched',
      reason: `several disbursement references (${REF}, ${second})`,
    });
    expect(classify(entry, candidates([REF, paid()], [second, paid({ id: 'disbursement-2', hospitalId: OTHER_HOSPITAL })])).status).toBe('matched');
  });

  describe('properties', () => {
    // Weighted towards entries that can match, so every outcome is well represented.
    const hospitals = fc.constantFrom(HOSPITAL, HOSPITAL, HOSPITAL, OTHER_HOSPITAL, 'hospital-3');
    const references = fc.constantFrom<string>(REF, 'SPR-2026-000123-2', 'SPR-2025-000999-1');
    const amounts = fc.constantFrom(5_000_000, 5_000_000, 5_000_001, 0);
    const candidateArb = fc.record({
      id: fc.uuid(),
      amount: amounts,
      status: fc.constantFrom('paid', 'paid', 'paid', 'scheduled', 'reconciled', 'cancelled', 'returned'),
      hospitalId: hospitals,
    });
    const candidateMap = fc.array(fc.tuple(references, candidateArb), { minLength: 1, maxLength: 3 }).map((pairs) => new Map(pairs));
    const entryArb = fc
      .record({
        amount: amounts,
        creditDebit: fc.oneof({ arbitrary: fc.constant<'CRDT' | 'DBIT'>('CRDT'), weight: 9 }, fc.constant<'CRDT' | 'DBIT'>('DBIT')),
        currency: fc.oneof({ arbitrary: fc.constant('CNY'), weight: 9 }, fc.constant('EUR')),
        status: fc.oneof({ arbitrary: fc.constantFrom<string | undefined>('BOOK', undefined), weight: 9 }, fc.constant('PDNG')),
        reversal: fc.oneof({ arbitrary: fc.constant<true | undefined>(undefined), weight: 9 }, fc.constant<true | undefined>(true)),
        remittance: fc.oneof(
          { arbitrary: references, weight: 4 },
          { arbitrary: fc.array(references, { maxLength: 2 }).map((refs) => refs.join(' ')), weight: 1 },
        ),
        structuredReferences: fc.oneof({ arbitrary: fc.constant<string[]>([]), weight: 4 }, { arbitrary: fc.array(references, { minLength: 1, maxLength: 1 }), weight: 1 }),
      })
      .map(({ reversal, status, ...fields }) => credit({ ...fields, status, ...(reversal ? { reversal } : {}) }));
    const seenArb = fc
      .oneof({ arbitrary: fc.constant<string[]>([]), weight: 3 }, { arbitrary: fc.array(references, { maxLength: 2 }), weight: 1 })
      .map((refs) => new Set(refs));
    const classified = fc.tuple(entryArb, candidateMap, hospitals, seenArb).map(([entry, map, hospitalId, seen]) => ({
      entry,
      map,
      hospitalId,
      seen,
      result: classifyEntry(entry, map, hospitalId, seen),
    }));
    const runs = { numRuns: 1000 };

    it('matches exactly when the amounts are equal, for a booked CNY credit naming one paid disbursement of the hospital', () => {
      fc.assert(
        fc.property(references, amounts, amounts, fc.uuid(), (reference, entryAmount, paidAmount, id) => {
          const entry = credit({ remittance: `payment ${reference.replace(/-/g, ' ')}`, amount: entryAmount });
          const result = classifyEntry(entry, candidates([reference, paid({ id, amount: paidAmount })]), HOSPITAL, new Set());
          expect(result).toMatchObject({ status: entryAmount === paidAmount ? 'matched' : 'mismatched', disbursementId: id, reference });
        }),
      );
    });

    it('calls mismatched every booked CNY credit naming one disbursement of the hospital for another amount', () => {
      fc.assert(
        fc.property(classified, ({ entry, map, hospitalId, result }) => {
          if (entry.creditDebit !== 'CRDT' || entry.reversal || entry.currency !== 'CNY' || (entry.status ?? 'BOOK') !== 'BOOK') return;
          const ours = entryReferences(entry).filter((reference) => map.get(reference)?.hospitalId === hospitalId);
          if (ours.length === 1 && map.get(ours[0])?.amount !== entry.amount) expect(result).toMatchObject({ status: 'mismatched', reference: ours[0] });
        }),
        runs,
      );
    });

    it('never links an entry to a disbursement of another hospital', () => {
      fc.assert(
        fc.property(classified, ({ map, hospitalId, result }) => {
          if (result.disbursementId === undefined) return;
          const linked = [...map.values()].find((candidate) => candidate.id === result.disbursementId);
          expect(linked?.hospitalId).toBe(hospitalId);
        }),
        runs,
      );
    });

    it('never matches a debit, a reversal, a non-CNY or an unbooked entry', () => {
      fc.assert(
        fc.property(classified, ({ entry, map, result }) => {
          const matchable = entry.creditDebit === 'CRDT' && !entry.reversal && entry.currency === 'CNY' && (entry.status ?? 'BOOK') === 'BOOK';
          if (!matchable) expect(['ignored', 'mismatched', 'unmatched']).toContain(result.status);
          else expect(result.status).not.toBe('ignored');
          // A debit or reversal is an exception (held against a tranche) only for at least the tranche's amount.
          if (!matchable && result.status === 'mismatched' && result.disbursementId) {
            expect(entry.amount).toBeGreaterThanOrEqual([...map.values()].find((d) => d.id === result.disbursementId)!.amount);
          }
          if (!matchable && result.status === 'unmatched') expect(result.reason).toContain('not the payment sent back');
        }),
        runs,
      );
    });

    it('matches only a paid disbursement of the same amount whose reference the entry carries, once per statement', () => {
      fc.assert(
        fc.property(classified, ({ entry, map, hospitalId, seen, result }) => {
          if (result.status !== 'matched') return;
          const reference = result.reference as string;
          const disbursement = map.get(reference) as MatchCandidate;
          expect(disbursement).toMatchObject({ id: result.disbursementId, status: 'paid', amount: entry.amount, hospitalId });
          expect(entryReferences(entry)).toContain(reference);
          expect(seen.has(reference)).toBe(false);
        }),
        runs,
      );
    });

    it('calls mismatched only a credit for a disbursement of the hospital whose amount differs, or money going back from a paid or reconciled one', () => {
      fc.assert(
        fc.property(classified, ({ entry, map, hospitalId, result }) => {
          if (result.status !== 'mismatched') return;
          if (result.reference === undefined) {
            // Money going back from several tranches: about none of them alone.
            expect(result.takenBack?.length).toBeGreaterThan(1);
            for (const reference of result.takenBack ?? []) {
              expect(map.get(reference)).toMatchObject({ hospitalId, status: expect.stringMatching(/^(paid|reconciled)$/) });
            }
            return;
          }
          const disbursement = map.get(result.reference) as MatchCandidate;
          expect(disbursement.hospitalId).toBe(hospitalId);
          expect(result.disbursementId).toBe(disbursement.id);
          if (entry.creditDebit === 'CRDT' && !entry.reversal) {
            expect(disbursement.amount).not.toBe(entry.amount);
          } else {
            expect(['paid', 'reconciled']).toContain(disbursement.status);
            expect(entry.currency).toBe('CNY');
          }
        }),
        runs,
      );
    });

    it('gives the same answer whoever else is in the candidate map, as long as the hospital’s own disbursements are the same', () => {
      fc.assert(
        fc.property(classified, ({ entry, map, hospitalId, seen, result }) => {
          const ownOnly = new Map([...map].filter(([, candidate]) => candidate.hospitalId === hospitalId));
          expect(classifyEntry(entry, ownOnly, hospitalId, seen)).toEqual(result);
        }),
        runs,
      );
    });

    it('matches a fed statement at most once per reference when the caller records matches', () => {
      fc.assert(
        fc.property(fc.array(entryArb, { maxLength: 6 }), candidateMap, (entries, map) => {
          const seen = new Set<string>();
          const matched: string[] = [];
          for (const entry of entries) {
            const result = classifyEntry(entry, map, HOSPITAL, seen);
            if (result.status === 'matched') {
              matched.push(result.reference as string);
              seen.add(result.reference as string);
            }
          }
          expect(new Set(matched).size).toBe(matched.length);
        }),
      );
    });
  });
});
