import fc from 'fast-check';
import { findReferences } from 'src/reconciliation/matching';
import { trancheReference } from 'src/disbursements/tranche-reference';

describe('trancheReference', () => {
  it('appends the 1-based tranche number to the application reference', () => {
    expect(trancheReference('SPR-2026-000123', 1)).toBe('SPR-2026-000123-1');
    expect(trancheReference('SPR-2026-000123', 2)).toBe('SPR-2026-000123-2');
    expect(trancheReference('SPR-2025-999999', 9999)).toBe('SPR-2025-999999-9999');
  });

  it('keeps working past the millionth application (the serial grows to 7–9 digits)', () => {
    expect(trancheReference('SPR-2031-1000000', 1)).toBe('SPR-2031-1000000-1');
    expect(trancheReference('SPR-2031-999999999', 2)).toBe('SPR-2031-999999999-2');
    expect(findReferences('Sprout grant SPR-2031-1000000-1 first tranche')).toEqual(['SPR-2031-1000000-1']);
    expect(findReferences('SPR 2031 1234567 12')).toEqual(['SPR-2031-1234567-12']);
  });

  it.each(['SPR-2026-0001234', 'SPR-2026-1000000000', 'SPR-2026-00123', 'SPR-26-000123', 'spr-2026-000123', 'SPR-2026-000123-1', ' SPR-2026-000123', ''])(
    'refuses the application reference %j',
    (reference) => expect(() => trancheReference(reference, 1)).toThrow(RangeError),
  );

  it.each([0, -1, 1.5, 10000, Number.NaN])('refuses tranche number %p', (k) => {
    expect(() => trancheReference('SPR-2026-000123', k)).toThrow(RangeError);
  });

  it('is always found again, alone, by the statement matcher', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 2999 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 1, max: 9999 }), (year, serial, k) => {
        const reference = trancheReference(`SPR-${year}-${String(serial).padStart(6, '0')}`, k);
        expect(findReferences(`Grant ${reference} tranche`)).toEqual([reference]);
      }),
    );
  });
});
