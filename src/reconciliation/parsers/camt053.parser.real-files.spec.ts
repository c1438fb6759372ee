import { createReadStream, readFileSync } from 'fs';
import path from 'path';
import { parseCamt053 } from 'src/reconciliation/parsers/camt053.parser';
import { ParsedStatementEntry, ParsedStatementHeader, StatementItem } from 'src/reconciliation/parsers/statement-entry';
import { CAMT053_FIXTURES } from 'test/fixtures/camt053';

/**
 * Real camt.053 files and the results of an independent parser (genkgo/camt, see SOURCE.md):
 * every field of theirs that has a counterpart in ours must agree.
 */
const FILES = ['camt053.v2.minimal', 'camt053.v4'];

// Their JSON is a reflective dump of PHP objects; typing it would add nothing to the comparison.
type Json = Record<string, any>;

describe.each(FILES)('%s.xml against the independent parser', (name) => {
  const expected: Json = JSON.parse(readFileSync(path.join(CAMT053_FIXTURES, `${name}.expected.json`), 'utf8'));
  let items: StatementItem[];
  let entries: ParsedStatementEntry[];
  let headers: ParsedStatementHeader[];

  beforeAll(async () => {
    items = [];
    for await (const item of parseCamt053(createReadStream(path.join(CAMT053_FIXTURES, `${name}.xml`)))) items.push(item);
    entries = items.flatMap((item) => (item.kind === 'entry' ? [item.entry] : []));
    headers = items.flatMap((item) => (item.kind === 'header' ? [item.header] : []));
  });

  it('yields one header per statement, before its entries', () => {
    expect(items[0].kind).toBe('header');
    expect(headers).toHaveLength(expected.getRecords.length);
  });

  it('yields as many entries as they found', () => {
    expect(expected.getEntries.length).toBeGreaterThan(0);
    expect(entries).toHaveLength(expected.getEntries.length);
  });

  const entryFields: [string, (theirs: Json) => unknown, (ours: ParsedStatementEntry) => unknown][] = [
    ['index', (e) => e.getIndex, (o) => o.index],
    ['amount in minor units, signed by direction', (e) => e.getAmount.getAmount, (o) => signedMinorUnits(o)],
    ['currency', (e) => e.getAmount.getCurrency.getCode, (o) => o.currency],
    ['credit/debit', (e) => e.getCreditDebitIndicator, (o) => o.creditDebit],
    ['booking date', (e) => dateOf(e.getBookingDate), (o) => o.bookingDate],
    ['value date', (e) => dateOf(e.getValueDate), (o) => o.valueDate ?? null],
    ['status', (e) => e.getStatus, (o) => o.status ?? null],
    ['reversal', (e) => e.getReversalIndicator, (o) => o.reversal ?? false],
    ['account servicer reference', (e) => e.getAccountServicerReference, (o) => o.accountServicerReference ?? null],
    ['additional info', (e) => e.getAdditionalInfo || null, (o) => o.additionalInfo ?? null],
    ['end-to-end id', (e) => transactionReference(e).getEndToEndId, (o) => o.endToEndId ?? null],
    ['instruction id', (e) => transactionReference(e).getInstructionId, (o) => o.instructionId ?? null],
    ['unstructured remittance', (e) => unstructuredRemittance(e), (o) => o.remittance],
    ['structured references', (e) => structuredReferences(e), (o) => o.structuredReferences],
    ['counterparty', (e) => counterparty(e), (o) => o.counterparty ?? null],
  ];

  it.each(entryFields)('agrees on the entry %s', (_field, theirs, ours) => {
    expect(entries.map(ours)).toEqual(expected.getEntries.map(theirs));
  });

  const headerFields: [string, (record: Json) => unknown, (ours: ParsedStatementHeader) => unknown][] = [
    ['statement id', (r) => r.getId, (h) => h.statementId],
    ['account IBAN', (r) => r.getAccount.getIban?.getIban ?? null, (h) => h.accountIban ?? null],
    ['other account id', (r) => (r.getAccount.getIban ? null : r.getAccount.getIdentification), (h) => h.accountOther ?? null],
    ['creation time (same instant)', (r) => instant(r.getCreatedOn[0]), (h) => instant(h.createdAt)],
    ['from time (same instant)', (r) => instant(r.getFromDate[0]), (h) => instant(h.fromDate)],
    ['to time (same instant)', (r) => instant(r.getToDate[0]), (h) => instant(h.toDate)],
  ];

  it.each(headerFields)('agrees on the statement %s', (_field, theirs, ours) => {
    const records = expected.getEntries.map((entry: Json) => entry.getRecord);
    expect(headers.map(ours)).toEqual(records.map(theirs));
  });
});

function signedMinorUnits(entry: ParsedStatementEntry): string {
  return String(entry.creditDebit === 'DBIT' ? -entry.amount : entry.amount);
}

/** Their dates are midnight UTC DateTimeImmutables for a plain Dt. */
function dateOf(value: Json | null): string | null {
  return value ? String(value[0]).slice(0, 10) : null;
}

/** toISOString throws on an invalid date, so two missing values cannot pass as equal. */
function instant(value: string | undefined): string {
  return new Date(value as string).toISOString();
}

function transactionReference(entry: Json): Json {
  return entry.getTransactionDetail?.getReference ?? {};
}

function remittanceInformation(entry: Json): Json {
  return entry.getTransactionDetail?.getRemittanceInformation ?? {};
}

function unstructuredRemittance(entry: Json): string {
  return (remittanceInformation(entry).getUnstructuredBlocks ?? []).map((block: Json) => block.getMessage).join(' ');
}

function structuredReferences(entry: Json): string[] {
  const remittance = remittanceInformation(entry);
  const blocks: Json[] = remittance.getStructuredBlocks ?? [];
  return blocks
    .map((block) => seenBefore(block, remittance.getStructuredBlock))
    .flatMap((block) => [
      seenBefore(block.getCreditorReferenceInformation, remittance.getCreditorReferenceInformation)?.getRef,
      block.getAdditionalRemittanceInformation,
    ])
    .filter((value): value is string => Boolean(value));
}

/**
 * Their dump prints an object once and writes "__RECURSIVITY__" where it appears again; the first
 * structured block and its creditor reference are printed in full beside the lists that repeat them.
 */
function seenBefore(value: Json | string | null, printedAt: Json): Json {
  return value === '__RECURSIVITY__' ? printedAt : (value as Json);
}

function counterparty(entry: Json): string | null {
  const role = entry.getCreditDebitIndicator === 'CRDT' ? 'Debtor' : 'Creditor';
  const parties: Json[] = entry.getTransactionDetail?.getRelatedParties ?? [];
  const party = parties.find((p) => p.getRelatedPartyType.__CLASS__ === `Genkgo\\Camt\\DTO\\${role}`);
  return party?.getRelatedPartyType.getName ?? null;
}
