import { CastingContext, CsvError, parse } from 'csv-parse';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { AmountFormatError, decimalToMinorUnits } from 'src/reconciliation/parsers/amount';
import { minorUnitDigits, statementCurrency } from 'src/reconciliation/parsers/currency-digits';
import {
  ParsedStatementEntry,
  StatementItem,
  StatementParseError,
  decodeUtf8,
  isCalendarDate,
} from 'src/reconciliation/parsers/statement-entry';

export const CSV_STATEMENT_COLUMNS = ['date', 'amount', 'currency', 'reference', 'counterparty', 'description'] as const;
type Column = (typeof CSV_STATEMENT_COLUMNS)[number];
type ColumnPositions = Record<Column, number>;

/** Far above any real statement line; stops an unclosed quote from buffering the rest of the file. */
const MAX_RECORD_CHARACTERS = 64 * 1024;

/**
 * Streams a CSV statement: `date,amount,currency,reference,counterparty,description` in any order,
 * names matched case-insensitively. Extra columns are refused rather than ignored: a column we do not
 * know (a separate debit flag, a fee) could change what a row means. The amount is a decimal in the row's
 * currency (yuan for CNY); a leading '-' makes the row a debit. UTF-8 only, with or without a BOM.
 * Yields one empty header first (CSV carries no statement metadata), then the entries.
 */
export async function* parseCsvStatement(source: AsyncIterable<Buffer | string>): AsyncGenerator<StatementItem> {
  // Field counts are checked row by row, not by csv-parse, so that errors come in line order: csv-parse
  // reads ahead of the rows we have validated and would report a later row first.
  const lines = new LineNumbers();
  const csv = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    max_record_size: MAX_RECORD_CHARACTERS,
    // As csv-parse reads each record, not as the loop below takes it: the parser reads ahead (see LineNumbers).
    on_record: (record: string[], context: CastingContext): NumberedRecord => ({ record, line: lines.firstLineOf(record, context) }),
  });
  const feeding = pipeline(Readable.from(decodeUtf8(source)), csv);
  feeding.catch(() => undefined); // the same error surfaces from the iteration below
  let columns: ColumnPositions | undefined;
  let index = 0;
  try {
    for await (const { record, line } of csv as AsyncIterable<NumberedRecord>) {
      const location = `line ${line}`;
      if (!columns) {
        columns = readHeader(record, location);
        yield { kind: 'header', header: {} };
      } else {
        yield { kind: 'entry', entry: readEntry(record, columns, index++, location) };
      }
    }
    await feeding;
  } catch (error) {
    if (error instanceof CsvError) throw new StatementParseError(describeCsvError(error), `line ${lines.lineOf(error)}`);
    throw error;
  } finally {
    csv.destroy();
  }
  if (!columns) throw new StatementParseError(`the file is empty; expected the header ${CSV_STATEMENT_COLUMNS.join(',')}`, 'line 1');
}

export function isCsvStatementHeader(names: string[]): boolean {
  const normalized = new Set(names.map(normalizeColumnName));
  return names.length === CSV_STATEMENT_COLUMNS.length && CSV_STATEMENT_COLUMNS.every((column) => normalized.has(column));
}

function normalizeColumnName(name: string): string {
  return name.trim().toLowerCase();
}

function readHeader(names: string[], location: string): ColumnPositions {
  const positions: Partial<ColumnPositions> = {};
  names.forEach((raw, position) => {
    const name = normalizeColumnName(raw) as Column;
    if (!CSV_STATEMENT_COLUMNS.includes(name)) {
      throw new StatementParseError(`unexpected column '${raw}'; the header must be ${CSV_STATEMENT_COLUMNS.join(',')}`, location);
    }
    if (positions[name] !== undefined) throw new StatementParseError(`column '${name}' appears twice`, location);
    positions[name] = position;
  });
  const missing = CSV_STATEMENT_COLUMNS.filter((column) => positions[column] === undefined);
  if (missing.length > 0) throw new StatementParseError(`missing column ${missing.map((c) => `'${c}'`).join(', ')}`, location);
  return positions as ColumnPositions;
}

function readEntry(record: string[], columns: ColumnPositions, index: number, location: string): ParsedStatementEntry {
  if (record.length !== CSV_STATEMENT_COLUMNS.length) {
    throw new StatementParseError(`expected ${CSV_STATEMENT_COLUMNS.length} fields, found ${record.length}`, location);
  }
  const field = (column: Column) => record[columns[column]];
  const date = field('date');
  if (!isCalendarDate(date)) throw new StatementParseError(`date '${date}' is not a date (YYYY-MM-DD)`, location);
  const written = field('currency');
  const currency = statementCurrency(written);
  if (!currency) throw new StatementParseError(`currency '${written}' is not an ISO 4217 code (CNY, or RMB as Chinese banks write it)`, location);
  const amountText = field('amount');
  const isDebit = amountText.startsWith('-');
  const entry: ParsedStatementEntry = {
    index,
    location,
    bookingDate: date,
    amount: readAmount(isDebit ? amountText.slice(1) : amountText, amountText, minorUnitDigits(currency), location),
    creditDebit: isDebit ? 'DBIT' : 'CRDT',
    currency,
    remittance: field('description'),
    structuredReferences: field('reference') ? [field('reference')] : [],
  };
  if (field('counterparty')) entry.counterparty = field('counterparty');
  return entry;
}

function readAmount(unsigned: string, written: string, digits: number, location: string): number {
  try {
    return decimalToMinorUnits(unsigned, digits);
  } catch (error) {
    if (error instanceof AmountFormatError) throw new StatementParseError(`amount '${written}' ${error.reason}`, location);
    throw error;
  }
}

type NumberedRecord = { record: string[]; line: number };

const LINE_BREAK = /\r\n|\r|\n/g;
const CRLF = /\r\n/g;

/**
 * Line numbers as people (and editors) count them: CRLF, LF or a lone CR ends one line. csv-parse counts every CR
 * and every LF, save a CRLF that ends a record: a CRLF inside a quoted field counts twice, there and in every later
 * line number. Fed each record as csv-parse reads it (on_record), so that the CRLFs it counted twice are known for an
 * error it raises on a later row as well. (A file whose rows end in LF but some in CRLF is still miscounted: the CR
 * before such a row's end is trimmed from the field, out of sight.)
 */
class LineNumbers {
  private countedTwice = 0;

  /** The line a record starts on: csv-parse gives the one it ends on, and a quoted field may span several lines. */
  firstLineOf(record: string[], context: CastingContext): number {
    let innerLineBreaks = 0;
    for (const value of record) {
      if (!value.includes('\n') && !value.includes('\r')) continue;
      innerLineBreaks += value.match(LINE_BREAK)?.length ?? 0;
      this.countedTwice += value.match(CRLF)?.length ?? 0;
    }
    return context.lines - this.countedTwice - innerLineBreaks;
  }

  lineOf(error: CsvError): number {
    return error.lines - this.countedTwice;
  }
}

function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record is longer than ${MAX_RECORD_CHARACTERS} characters`;
    default:
      return `not a valid CSV file (${error.message})`;
  }
}
