/** What every statement parser produces, whatever the file format. */

export type CreditDebit = 'CRDT' | 'DBIT';

export interface ParsedStatementEntry {
  /** 0-based position in the file, counted across all statements of the file. */
  index: number;
  /** Where the entry is in the file: "line 12" (CSV) or "Stmt[1]/Ntry[3]" (camt.053, 1-based; "Stmt[1]/Ntry[3]/TxDtls[2]" for one transfer of a batch entry). */
  location: string;
  /**
   * Set for one transfer of a batch entry that the parser split (camt.053: one Ntry booking several TxDtls with their
   * own amounts): its 1-based position in the entry. The transfers share the entry's bank reference.
   */
  batchTransaction?: number;
  /** YYYY-MM-DD: a Dt as the bank wrote it; a DtTm with an offset, its day in China time (as written without one). */
  bookingDate: string;
  valueDate?: string;
  /**
   * The day as written, set only where it is not the day above (a DtTm whose offset puts the instant on another day
   * in China). Fingerprints are taken of the written day, as before dates were read in China time, so an entry
   * imported then and repeated by a later statement is still recognised as the same entry.
   */
  writtenBookingDate?: string;
  writtenValueDate?: string;
  /** Positive minor units of the currency (ISO 4217 digits: fen for CNY, fils for KWD, yen for JPY); the direction is in creditDebit. */
  amount: number;
  creditDebit: CreditDebit;
  currency: string;
  /** camt.053 entry status, e.g. BOOK, PDNG, INFO. */
  status?: string;
  /** Set only when the bank marks the entry as a reversal (camt.053 RvslInd = true). */
  reversal?: true;
  accountServicerReference?: string;
  endToEndId?: string;
  instructionId?: string;
  /** Unstructured remittance lines joined with a space ("" when there are none). */
  remittance: string;
  /** Creditor references, referred document numbers and additional remittance lines, in file order. */
  structuredReferences: string[];
  /** Debtor name for a credit, creditor name for a debit. */
  counterparty?: string;
  additionalInfo?: string;
}

export interface ParsedStatementHeader {
  statementId?: string;
  accountIban?: string;
  accountOther?: string;
  currency?: string;
  /** ISO 8601 date-times as written in the file (offset kept, not converted). */
  createdAt?: string;
  fromDate?: string;
  toDate?: string;
}

/**
 * A parser yields a header before the entries it describes. camt.053 yields one header per Stmt
 * (a file may hold several accounts or days); CSV yields one empty header first.
 */
export type StatementItem =
  | { kind: 'header'; header: ParsedStatementHeader }
  | { kind: 'entry'; entry: ParsedStatementEntry };

export class StatementParseError extends Error {
  override readonly name = 'StatementParseError';

  /** `message` reads "<location>: <reason>", e.g. "line 7: amount '12,5' is not a decimal". */
  constructor(
    readonly reason: string,
    readonly location: string,
  ) {
    super(`${location}: ${reason}`);
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map((part) => parseInt(part, 10));
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Decodes UTF-8 chunk by chunk (a character split across chunks is carried over) and refuses any
 * other encoding instead of silently replacing bytes, which would garble names and references.
 */
export async function* decodeUtf8(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let linesBefore = 0;
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      yield chunk;
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new StatementParseError('the file is not UTF-8 text', `line ${linesBefore + firstBadLine(chunk)}`);
    }
    linesBefore += countNewlines(text);
    yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch {
    throw new StatementParseError('the file ends inside a UTF-8 character', `line ${linesBefore + 1}`);
  }
}

function firstBadLine(chunk: Buffer): number {
  const lenient = new TextDecoder('utf-8').decode(chunk);
  return countNewlines(lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD')))) + 1;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
