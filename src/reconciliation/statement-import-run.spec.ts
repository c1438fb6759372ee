import fc from 'fast-check';
import { classifyEntry } from 'src/reconciliation/matching';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';
import { canMatch } from 'src/reconciliation/statement-import-run';

describe('canMatch', () => {
  const REF = 'SPR-2026-000123-1';
  const candidates = new Map([[REF, { id: 'd1', amount: 100, status: 'paid', hospitalId: 'h1' }]]);

  it('is false exactly when classifyEntry ignores the entry whatever the disbursements (so skipping its duplicate check changes nothing)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'CRDT' | 'DBIT'>('CRDT', 'DBIT'),
        fc.constantFrom('CNY', 'EUR', 'cny'),
        fc.constantFrom(undefined, 'BOOK', 'PDNG', 'INFO'),
        fc.boolean(),
        (creditDebit, currency, status, reversal) => {
          const entry: ParsedStatementEntry = {
            index: 0,
            location: 'line 2',
            bookingDate: '2026-09-15',
            amount: 100,
            creditDebit,
            currency,
            ...(status ? { status } : {}),
            ...(reversal ? { reversal: true as const } : {}),
            remittance: REF,
            structuredReferences: [],
          };
          const ignored = classifyEntry(entry, candidates, 'h1', new Set()).status === 'ignored';
          expect(canMatch(entry)).toBe(!ignored);
        },
      ),
    );
  });
});
