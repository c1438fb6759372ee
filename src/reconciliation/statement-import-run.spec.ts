import fc from 'fast-check';
import { classifyEntry, entryReferences } from 'src/reconciliation/matching';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';
import { canMatch, checksRepeats } from 'src/reconciliation/statement-import-run';

describe('canMatch and checksRepeats', () => {
  const REF = 'SPR-2026-000123-1';
  const candidates = new Map([[REF, { id: 'd1', amount: 100, status: 'paid', hospitalId: 'h1' }]]);

  it('an entry whose repeat check is skipped is one classifyEntry ignores whatever the disbursements (so skipping changes nothing)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'CRDT' | 'DBIT'>('CRDT', 'DBIT'),
        fc.constantFrom('CNY', 'EUR', 'cny'),
        fc.constantFrom(undefined, 'BOOK', 'PDNG', 'INFO'),
        fc.boolean(),
        fc.constantFrom(REF, 'Bank charges'),
        fc.constantFrom<'paid' | 'reconciled' | 'returned'>('paid', 'reconciled', 'returned'),
        (creditDebit, currency, status, reversal, remittance, trancheStatus) => {
          const entry: ParsedStatementEntry = {
            index: 0,
            location: 'line 2',
            bookingDate: '2026-09-15',
            amount: 100,
            creditDebit,
            currency,
            ...(status ? { status } : {}),
            ...(reversal ? { reversal: true as const } : {}),
            remittance,
            structuredReferences: [],
          };
          const tranches = new Map([[REF, { ...candidates.get(REF)!, status: trancheStatus }]]);
          const ignored = classifyEntry(entry, tranches, 'h1', new Set()).status === 'ignored';
          if (!checksRepeats(entry, entryReferences(entry))) expect(ignored).toBe(true);
          // canMatch alone: the credits that can match; a debit or reversal never can.
          if (canMatch(entry)) expect(ignored).toBe(false);
          if (entry.creditDebit === 'DBIT' || reversal) expect(canMatch(entry)).toBe(false);
        },
      ),
    );
  });
});
