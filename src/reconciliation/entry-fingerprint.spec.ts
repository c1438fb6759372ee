import { entryFingerprint, identifiesWithinFile, RowOccurrences } from 'src/reconciliation/entry-fingerprint';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

const entry = (overrides: Partial<ParsedStatementEntry> = {}): ParsedStatementEntry => ({
  index: 0,
  location: 'Stmt[1]/Ntry[1]',
  bookingDate: '2026-09-15',
  amount: 5_000_000,
  creditDebit: 'CRDT',
  currency: 'CNY',
  remittance: 'SPR-2026-000123-1',
  structuredReferences: [],
  ...overrides,
});

describe('entryFingerprint', () => {
  it('identifies an entry by the bank reference, amount, date, direction and currency, whatever else differs', () => {
    const a = entryFingerprint(entry({ accountServicerReference: 'BANK-1', index: 0, location: 'Stmt[1]/Ntry[1]' }));
    const b = entryFingerprint(entry({ accountServicerReference: 'BANK-1', index: 7, location: 'Stmt[2]/Ntry[3]', remittance: 'other text' }));
    expect(a).toBe(b);
    expect(identifiesWithinFile(a)).toBe(true);
    for (const change of [{ amount: 5_000_001 }, { bookingDate: '2026-09-16' }, { creditDebit: 'DBIT' as const }, { currency: 'EUR' }, { accountServicerReference: 'BANK-2' }]) {
      expect(entryFingerprint(entry({ accountServicerReference: 'BANK-1', ...change }))).not.toBe(a);
    }
  });

  it('tells apart the transfers of one batch entry that share its bank reference and amount, the same in every file', () => {
    const first = entryFingerprint(entry({ accountServicerReference: 'BATCH-9', batchTransaction: 1 }));
    const second = entryFingerprint(entry({ accountServicerReference: 'BATCH-9', batchTransaction: 2, index: 1 }));
    expect(first).not.toBe(second);
    expect(identifiesWithinFile(first)).toBe(true);
    expect(entryFingerprint(entry({ accountServicerReference: 'BATCH-9', batchTransaction: 2, index: 40 }))).toBe(second);
    expect(first).not.toBe(entryFingerprint(entry({ accountServicerReference: 'BATCH-9' })));
  });

  it('falls back to the end-to-end id, except NOTPROVIDED', () => {
    const a = entryFingerprint(entry({ endToEndId: 'E2E-42' }));
    expect(a).toBe(entryFingerprint(entry({ endToEndId: 'E2E-42', remittance: 'x' })));
    expect(identifiesWithinFile(a)).toBe(true);
    const notProvided = entryFingerprint(entry({ endToEndId: 'NOTPROVIDED' }));
    expect(identifiesWithinFile(notProvided)).toBe(false);
    expect(notProvided).toBe(entryFingerprint(entry({ endToEndId: 'notprovided' })));
  });

  it('without bank references, the whole row identifies it (only against other statements)', () => {
    const a = entryFingerprint(entry());
    expect(identifiesWithinFile(a)).toBe(false);
    expect(entryFingerprint(entry({ index: 3, location: 'line 9' }))).toBe(a);
    expect(entryFingerprint(entry({ remittance: 'SPR-2026-000123-2' }))).not.toBe(a);
    expect(entryFingerprint(entry({ counterparty: 'Someone' }))).not.toBe(a);
    expect(entryFingerprint(entry({ structuredReferences: ['R'] }))).not.toBe(a);
  });

  it('keeps parts apart (no separator collisions)', () => {
    expect(entryFingerprint(entry({ remittance: 'a', counterparty: 'b c' }))).not.toBe(entryFingerprint(entry({ remittance: 'a b', counterparty: 'c' })));
  });

  it('numbers identical rows of one file by occurrence, so that a later file repeats only the ones seen before', () => {
    const noon = new RowOccurrences();
    const endOfDay = new RowOccurrences();
    const row = entry({ remittance: 'grant' });
    const other = entry({ remittance: 'other' });
    const first = noon.fingerprintOf(row);
    expect(first).toBe(entryFingerprint(row));
    // The end-of-day file holds the noon row and a second, identical transfer.
    const later = [endOfDay.fingerprintOf(row), endOfDay.fingerprintOf(other), endOfDay.fingerprintOf(row)];
    expect(later[0]).toBe(first);
    expect(later[2]).toMatch(/^row:[0-9a-f]{64}$/); // the stored form (statement_fingerprints checks it)
    expect(new RowOccurrences().fingerprintOf(row)).toBe(first);
    expect(new Set(later).size).toBe(3);
    // Bank-identified entries are never numbered: a repeat of one within a file is the same transfer.
    const identified = entry({ accountServicerReference: 'BANK-1' });
    expect(endOfDay.fingerprintOf(identified)).toBe(endOfDay.fingerprintOf(identified));
  });
});
