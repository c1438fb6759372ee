import { createHash } from 'node:crypto';
import { entryFingerprint, formerFingerprint, identifiesWithinFile, RowOccurrences } from 'src/reconciliation/entry-fingerprint';
import { entryReferences } from 'src/reconciliation/matching';
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

  it('falls back to the end-to-end id, except NOTPROVIDED, whatever else differs but the Sprout references named', () => {
    const a = entryFingerprint(entry({ endToEndId: 'E2E-42' }));
    expect(a).toBe(entryFingerprint(entry({ endToEndId: 'E2E-42', remittance: 'x', additionalInfo: 'SPR-2026-000123-1' })));
    expect(identifiesWithinFile(a)).toBe(true);
    const notProvided = entryFingerprint(entry({ endToEndId: 'NOTPROVIDED' }));
    expect(identifiesWithinFile(notProvided)).toBe(false);
    expect(notProvided).toBe(entryFingerprint(entry({ endToEndId: 'notprovided' })));
  });

  it.each(['NONREF', 'nonref', ' NOTPROVIDED ', 'NOT PROVIDED', '/', ' '])('takes the placeholder %p for no end-to-end id: the row identifies the entry', (placeholder) => {
    const a = entryFingerprint(entry({ endToEndId: placeholder, remittance: 'SPR-2026-000123-1' }));
    expect(identifiesWithinFile(a)).toBe(false);
    expect(a).toBe(entryFingerprint(entry({ remittance: 'SPR-2026-000123-1' })));
    expect(entryFingerprint(entry({ endToEndId: placeholder, remittance: 'SPR-2026-000456-1' }))).not.toBe(a);
  });

  it('never takes two entries naming different Sprout references for one, whatever end-to-end id they share', () => {
    const batch = (remittance: string) => entryFingerprint(entry({ endToEndId: 'BATCH-0915', remittance }));
    expect(batch('SPR-2026-000123-1')).not.toBe(batch('SPR-2026-000456-1'));
    expect(batch('SPR-2026-000123-1 SPR-2026-000456-1')).toBe(batch('Sprout SPR-2026-000456-1, SPR-2026-000123-1'));
    expect(identifiesWithinFile(batch('SPR-2026-000123-1'))).toBe(true);
  });

  it('keeps the former fingerprint of every entry whose form did not change, and names the former one of the others', () => {
    // As fingerprints were computed before placeholders and references counted.
    const former = (e2e: string) => `id:${createHash('sha256').update(JSON.stringify(['e2e', e2e, '2026-09-15', 'CRDT', 'CNY', '5000000'])).digest('hex')}`;
    const unchanged = [
      entry({ endToEndId: 'E2E-42', remittance: 'no reference' }),
      entry({ accountServicerReference: 'BANK-1', endToEndId: 'NONREF' }),
      entry({ endToEndId: 'NOTPROVIDED' }),
      entry(),
    ];
    for (const e of unchanged) expect(formerFingerprint(e, entryReferences(e))).toBeNull();
    expect(entryFingerprint(unchanged[0])).toBe(former('E2E-42'));
    for (const [e2e, remittance] of [['NONREF', 'no reference'], ['/', 'SPR-2026-000123-1'], ['E2E-42', 'SPR-2026-000123-1']]) {
      const e = entry({ endToEndId: e2e, remittance });
      expect(formerFingerprint(e, entryReferences(e))).toBe(former(e2e));
      expect(entryFingerprint(e)).not.toBe(former(e2e));
    }
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
