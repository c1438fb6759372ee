import { SaxesParser, SaxesTagNS } from 'saxes';
import { AmountFormatError, decimalToMinorUnits } from 'src/reconciliation/parsers/amount';
import { minorUnitDigits } from 'src/reconciliation/parsers/currency-digits';
import {
  CreditDebit,
  ParsedStatementEntry,
  ParsedStatementHeader,
  StatementItem,
  StatementParseError,
  decodeUtf8,
  isCalendarDate,
} from 'src/reconciliation/parsers/statement-entry';

/** camt.053.001.02 to camt.053.001.13: the versions whose entry layout this reader knows. */
export const CAMT053_NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(0[2-9]|1[0-3])$/;

const STMT = 'Document/BkToCstmrStmt/Stmt';
const NTRY = `${STMT}/Ntry`;
const NTRY_AMT = `${NTRY}/Amt`;
const MAX_CACHED_PATHS = 10_000;
/**
 * Far above any real statement: camt.053 nests ~13 deep (Document/…/TxDtls/RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Cd),
 * a remittance line is at most 140 characters and an additional information 500. Past these limits a file is
 * refused: the XML parser's work grows with the square of the depth (40,000 levels in 280 KB froze the service for
 * a minute, then took it down), and one element's or entry's text would be stored and served back whole.
 */
const MAX_DEPTH = 64;
const MAX_ELEMENT_TEXT = 64 * 1024;
const MAX_ENTRY_LINES_TEXT = 1024 * 1024;
const TEXT_TOO_LONG = `an element's text is longer than ${MAX_ELEMENT_TEXT} characters`;
/** A time zone offset of ISO 8601 / XML Schema: at most ±14:00 in practice, ±23:59 in form (JavaScript reads those). */
const OFFSET = '(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const DATE = new RegExp(`^(\\d{4}-\\d{2}-\\d{2})${OFFSET}?$`);
const ENDS_WITH_OFFSET = new RegExp(`${OFFSET}$`);
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const DATE_TIME = new RegExp(`^(\\d{4}-\\d{2}-\\d{2})T([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(?:\\.\\d+)?${OFFSET}?$`);
const CURRENCY = /^[A-Z]{3}$/;

/** One TxDtls of an entry: a batch entry holds one per transfer it books. */
type TransactionDraft = {
  /** Minor units; null when the file's value cannot be read (the transaction's amount is then not used). */
  amount?: number | null;
  currency?: string;
  /** The Ccy of the amount element being read. */
  openCurrency?: string;
  creditDebit?: string;
  remittanceLines: string[];
  structuredReferences: string[];
  additionalLines: string[];
  endToEndId?: string;
  instructionId?: string;
  servicerReference?: string;
  debtorName?: string;
  creditorName?: string;
};

type EntryDraft = Partial<ParsedStatementEntry> & {
  location: string;
  line: number;
  /** AddtlNtryInf: about the entry as a whole, so it goes first. */
  entryInfo?: string;
  transactions: TransactionDraft[];
  /** Characters of its transfers' lines so far (addLine). */
  linesText?: number;
};

/** A field's value is wrong; the reader adds where it is. */
class FieldError extends Error {}

type FieldReader<T> = (target: T, value: string) => void;

/** An element path of the document, e.g. Document/BkToCstmrStmt/Stmt/Ntry/Amt, and what its value is read into. */
type PathNode = {
  path: string;
  children: Map<string, PathNode>;
  /** Under Ntry / under Stmt. */
  inEntry: boolean;
  inStatement: boolean;
  entryField: FieldReader<EntryDraft> | undefined;
  headerField: FieldReader<ParsedStatementHeader> | undefined;
};

const HEADER_FIELDS: Record<string, FieldReader<ParsedStatementHeader>> = {
  Id: (header, value) => (header.statementId = value),
  CreDtTm: (header, value) => (header.createdAt = dateTime(value, 'CreDtTm')),
  'FrToDt/FrDtTm': (header, value) => (header.fromDate = dateTime(value, 'FrDtTm')),
  'FrToDt/ToDtTm': (header, value) => (header.toDate = dateTime(value, 'ToDtTm')),
  'Acct/Id/IBAN': (header, value) => (header.accountIban = value),
  'Acct/Id/Othr/Id': (header, value) => (header.accountOther = value),
  'Acct/Ccy': (header, value) => (header.currency = value),
};

const TX_DTLS = `${NTRY}/NtryDtls/TxDtls`;
const TX = 'NtryDtls/TxDtls/';
/** A transaction's amount: TxDtls/Amt from version 04 on, AmtDtls/TxAmt/Amt in every version. */
const TX_AMOUNTS = new Set([`${TX_DTLS}/Amt`, `${TX_DTLS}/AmtDtls/TxAmt/Amt`]);
/** A line of the transfer being read; its entry's lines may hold MAX_ENTRY_LINES_TEXT characters in all (a batch's every transfer). */
const addLine = (entry: EntryDraft, lines: 'remittanceLines' | 'structuredReferences' | 'additionalLines', value: string) => {
  if (!value) return;
  entry.linesText = (entry.linesText ?? 0) + value.length;
  if (entry.linesText > MAX_ENTRY_LINES_TEXT) throw new FieldError(`the entry's remittance and other texts are longer than ${MAX_ENTRY_LINES_TEXT} characters in all`);
  tx(entry)[lines].push(value);
};
/** The TxDtls being read: its fields come after its opening tag, which starts it (openElement). */
const tx = (entry: EntryDraft) => entry.transactions[entry.transactions.length - 1];

/** Paths relative to Ntry. Sts is plain text up to version 07 and Sts/Cd from 08 on. */
const ENTRY_FIELDS: Record<string, FieldReader<EntryDraft>> = {
  Amt: (entry, value) => (entry.amount = amount(value, entry.currency)),
  CdtDbtInd: (entry, value) => (entry.creditDebit = creditDebit(value)),
  RvslInd: (entry, value) => (value === 'true' || value === '1') && (entry.reversal = true),
  Sts: (entry, value) => value && (entry.status = value),
  'Sts/Cd': (entry, value) => (entry.status = value),
  'Sts/Prtry': (entry, value) => (entry.status = value),
  'BookgDt/Dt': (entry, value) => (entry.bookingDate = date(value, 'BookgDt/Dt')),
  'BookgDt/DtTm': (entry, value) => {
    const { day, writtenDay } = daysOf(dateTime(value, 'BookgDt/DtTm'));
    assignDefined(entry, { bookingDate: day, writtenBookingDate: writtenDay });
  },
  'ValDt/Dt': (entry, value) => (entry.valueDate = date(value, 'ValDt/Dt')),
  'ValDt/DtTm': (entry, value) => {
    const { day, writtenDay } = daysOf(dateTime(value, 'ValDt/DtTm'));
    assignDefined(entry, { valueDate: day, writtenValueDate: writtenDay });
  },
  AcctSvcrRef: (entry, value) => (entry.accountServicerReference = value || undefined),
  AddtlNtryInf: (entry, value) => value && (entry.entryInfo = value),
  [`${TX}Amt`]: (entry, value) => readTransactionAmount(tx(entry), value),
  [`${TX}AmtDtls/TxAmt/Amt`]: (entry, value) => tx(entry).amount == null && readTransactionAmount(tx(entry), value),
  [`${TX}CdtDbtInd`]: (entry, value) => (tx(entry).creditDebit = value),
  [`${TX}AddtlTxInf`]: (entry, value) => addLine(entry, 'additionalLines', value),
  [`${TX}Refs/EndToEndId`]: (entry, value) => (tx(entry).endToEndId ??= value || undefined),
  [`${TX}Refs/InstrId`]: (entry, value) => (tx(entry).instructionId ??= value || undefined),
  [`${TX}Refs/AcctSvcrRef`]: (entry, value) => (tx(entry).servicerReference ??= value || undefined),
  [`${TX}RmtInf/Ustrd`]: (entry, value) => addLine(entry, 'remittanceLines', value),
  [`${TX}RmtInf/Strd/CdtrRefInf/Ref`]: (entry, value) => addLine(entry, 'structuredReferences', value),
  [`${TX}RmtInf/Strd/RfrdDocInf/Nb`]: (entry, value) => addLine(entry, 'structuredReferences', value),
  [`${TX}RmtInf/Strd/AddtlRmtInf`]: (entry, value) => addLine(entry, 'structuredReferences', value),
  // Party40Choice (version 08 on) wraps the name in Pty.
  [`${TX}RltdPties/Dbtr/Nm`]: (entry, value) => (tx(entry).debtorName ??= value || undefined),
  [`${TX}RltdPties/Dbtr/Pty/Nm`]: (entry, value) => (tx(entry).debtorName ??= value || undefined),
  [`${TX}RltdPties/Cdtr/Nm`]: (entry, value) => (tx(entry).creditorName ??= value || undefined),
  [`${TX}RltdPties/Cdtr/Pty/Nm`]: (entry, value) => (tx(entry).creditorName ??= value || undefined),
};

/**
 * Streams a camt.053 file: a header per Stmt, then its entries, as soon as each Ntry closes.
 * Only the current element's text and the current entry are held in memory.
 */
export async function* parseCamt053(source: AsyncIterable<Buffer | string>): AsyncGenerator<StatementItem> {
  const reader = new Camt053Reader();
  for await (const text of decodeUtf8(source)) {
    reader.write(text);
    yield* reader.drain();
  }
  reader.close();
  yield* reader.drain();
}

class Camt053Reader {
  private readonly parser = new SaxesParser({ xmlns: true, position: true });
  private readonly ready: StatementItem[] = [];
  /** The open elements, outermost first. */
  private readonly paths: PathNode[] = [];
  private readonly roots = new Map<string, PathNode>();
  private cachedPaths = 0;
  private text = '';
  private namespace?: string;
  private statementCount = 0;
  private entryCount = 0;
  private entryInStatement = 0;
  /** The header being read, until the statement's first entry sends it on (emitHeader). */
  private header?: ParsedStatementHeader;
  /** The current statement's header, kept for its dates (finishEntry). */
  private statementHeader: ParsedStatementHeader = {};
  private entry?: EntryDraft;

  constructor() {
    this.parser.on('error', (error) => this.fail(`not well-formed XML: ${error.message.replace(/^\d+:\d+: /, '')}`));
    this.parser.on('doctype', () => this.fail('a DOCTYPE is not allowed in a bank statement'));
    this.parser.on('opentag', (tag) => this.openElement(tag));
    this.parser.on('closetag', () => this.closeElement());
    this.parser.on('text', (text) => this.addText(text));
    this.parser.on('cdata', (text) => this.addText(text));
  }

  write(text: string): void {
    this.parser.write(text);
    // saxes gathers a text (or an attribute value, a comment, CDATA) until its end, and only then emits it (addText):
    // its buffer is checked after each chunk, so a 100 MB text is refused within a chunk of the limit, not held whole.
    const buffered = this.parser as unknown as { text?: string };
    if ((buffered.text?.length ?? 0) > MAX_ELEMENT_TEXT) this.fail(TEXT_TOO_LONG);
  }

  close(): void {
    this.parser.close();
    if (this.statementCount === 0) this.fail('the document has no Stmt (not a bank-to-customer statement)');
  }

  *drain(): Generator<StatementItem> {
    while (this.ready.length > 0) yield this.ready.shift() as StatementItem;
  }

  private addText(text: string): void {
    if (this.text.length + text.length > MAX_ELEMENT_TEXT) this.fail(TEXT_TOO_LONG);
    this.text += text;
  }

  private openElement(tag: SaxesTagNS): void {
    if (this.paths.length === 0) this.checkRoot(tag);
    if (this.paths.length >= MAX_DEPTH) this.fail(`elements are nested more than ${MAX_DEPTH} deep`);
    const name = tag.uri === this.namespace ? tag.local : `{${tag.uri}}${tag.local}`;
    const node = this.child(this.paths[this.paths.length - 1], name);
    this.paths.push(node);
    this.text = '';
    if (node.path === STMT) this.startStatement();
    else if (node.path === NTRY) this.startEntry();
    else if (!this.entry) return;
    else if (node.path === NTRY_AMT) this.entry.currency = tag.attributes['Ccy']?.value;
    else if (node.path === TX_DTLS) this.entry.transactions.push({ remittanceLines: [], structuredReferences: [], additionalLines: [] });
    else if (TX_AMOUNTS.has(node.path)) tx(this.entry).openCurrency = tag.attributes['Ccy']?.value;
  }

  private closeElement(): void {
    const node = this.paths[this.paths.length - 1];
    const value = this.text.trim();
    this.text = '';
    if (node.path === NTRY) this.finishEntry();
    else if (node.path === STMT) this.emitHeader();
    else if (this.entry && node.inEntry) this.readField(node.entryField, this.entry, value);
    else if (this.header && node.inStatement) this.readField(node.headerField, this.header, value);
    this.paths.pop();
  }

  /**
   * The element `name` under `parent`, with what closing it means worked out once per distinct path (not once per
   * element: a 200,000-entry file has ~6 million elements and a few dozen paths). A file with an absurd number of
   * distinct paths stops being cached rather than growing the cache.
   */
  private child(parent: PathNode | undefined, name: string): PathNode {
    const known = parent ? parent.children.get(name) : this.roots.get(name);
    if (known) return known;
    const path = parent ? `${parent.path}/${name}` : name;
    const entryRelative = path.startsWith(`${NTRY}/`) ? path.slice(NTRY.length + 1) : undefined;
    const statementRelative = path.startsWith(`${STMT}/`) ? path.slice(STMT.length + 1) : undefined;
    const node: PathNode = {
      path,
      children: new Map(),
      inEntry: entryRelative !== undefined,
      inStatement: statementRelative !== undefined,
      // Element names come from the file: "__proto__" or "constructor" must not reach Object.prototype.
      entryField: entryRelative !== undefined && Object.hasOwn(ENTRY_FIELDS, entryRelative) ? ENTRY_FIELDS[entryRelative] : undefined,
      headerField: statementRelative !== undefined && Object.hasOwn(HEADER_FIELDS, statementRelative) ? HEADER_FIELDS[statementRelative] : undefined,
    };
    if (this.cachedPaths < MAX_CACHED_PATHS) {
      this.cachedPaths++;
      (parent ? parent.children : this.roots).set(name, node);
    }
    return node;
  }

  private readField<T>(read: FieldReader<T> | undefined, target: T, value: string): void {
    if (!read) return;
    try {
      read(target, value);
    } catch (error) {
      if (error instanceof FieldError) this.fail(error.message);
      throw error;
    }
  }

  private checkRoot(tag: SaxesTagNS): void {
    const encoding = this.parser.xmlDecl.encoding;
    if (encoding && !/^utf-?8$/i.test(encoding)) this.fail(`encoding ${encoding} is not supported, only UTF-8`);
    if (tag.local !== 'Document' || !CAMT053_NAMESPACE.test(tag.uri)) {
      this.fail(`not a camt.053 document (root element ${tag.local} in namespace '${tag.uri}')`);
    }
    this.namespace = tag.uri;
  }

  private startStatement(): void {
    this.statementCount++;
    this.entryInStatement = 0;
    this.header = {};
    this.statementHeader = this.header;
  }

  private startEntry(): void {
    this.emitHeader();
    this.entryInStatement++;
    const location = `Stmt[${this.statementCount}]/Ntry[${this.entryInStatement}]`;
    this.entry = { location, line: this.parser.line, transactions: [] };
  }

  private emitHeader(): void {
    if (!this.header) return;
    this.ready.push({ kind: 'header', header: this.header });
    this.header = undefined;
  }

  private finishEntry(): void {
    const draft = this.entry as EntryDraft;
    if (draft.amount === undefined) this.fail('entry has no Amt');
    if (draft.creditDebit === undefined) this.fail('entry has no CdtDbtInd');
    if (draft.bookingDate === undefined) this.dateUnbooked(draft);
    this.entry = undefined;
    const transfers = batchTransfers(draft);
    if (!transfers) {
      this.ready.push({ kind: 'entry', entry: this.entryOf(draft, draft.location, draft.amount, wholeEntry(draft)) });
      return;
    }
    // The entry's own AddtlNtryInf is about the whole batch (it may list every transfer's reference): a transfer of it
    // carries only its own details, or each would name every tranche of the batch and none would match.
    const transferOnly = { ...draft, entryInfo: undefined };
    transfers.forEach((transfer, i) => {
      const details = { ...transfer, servicerReference: transfer.servicerReference ?? draft.accountServicerReference };
      const entry = this.entryOf(transferOnly, `${draft.location}/TxDtls[${i + 1}]`, transfer.amount as number, details);
      entry.batchTransaction = i + 1;
      this.ready.push({ kind: 'entry', entry });
    });
  }

  /**
   * BookgDt is optional in camt.053: pending (PDNG) and informational entries often have none. Only a booked entry
   * (BOOK, or without a status, which matching takes for booked) must have one; another is kept, as ignored, under
   * its value date, else the day the statement was created (CreDtTm, mandatory), else the last day it covers.
   */
  private dateUnbooked(draft: EntryDraft): void {
    if (draft.status === undefined || draft.status === 'BOOK') this.fail('entry has no BookgDt');
    if (draft.valueDate !== undefined) {
      assignDefined(draft, { bookingDate: draft.valueDate, writtenBookingDate: draft.writtenValueDate });
      return;
    }
    const stated = this.statementHeader.createdAt ?? this.statementHeader.toDate;
    if (stated === undefined) this.fail(`entry (status ${draft.status}) has no BookgDt nor ValDt, and the statement no CreDtTm`);
    const { day, writtenDay } = daysOf(stated);
    assignDefined(draft, { bookingDate: day, writtenBookingDate: writtenDay });
  }

  private entryOf(draft: EntryDraft, location: string, amount: number, details: TransactionDraft): ParsedStatementEntry {
    const creditDebit = draft.creditDebit as CreditDebit;
    const entry: ParsedStatementEntry = {
      index: this.entryCount++,
      location,
      bookingDate: draft.bookingDate as string,
      amount,
      creditDebit,
      currency: draft.currency as string,
      remittance: details.remittanceLines.join(' '),
      structuredReferences: details.structuredReferences,
    };
    assignDefined(entry, {
      writtenBookingDate: draft.writtenBookingDate,
      valueDate: draft.valueDate,
      writtenValueDate: draft.writtenValueDate,
      status: draft.status,
      reversal: draft.reversal,
      accountServicerReference: details.servicerReference,
      endToEndId: details.endToEndId,
      instructionId: details.instructionId,
      counterparty: creditDebit === 'CRDT' ? details.debtorName : details.creditorName,
      additionalInfo: [draft.entryInfo ?? '', ...details.additionalLines].filter(Boolean).join(' ') || undefined,
    });
    return entry;
  }

  private currentPath(): string {
    return this.paths[this.paths.length - 1]?.path ?? '';
  }

  /** "line 97 (Stmt[1]/Ntry[3]/Amt)": the line the parser is on and the element it is in. */
  private fail(reason: string): never {
    const path = this.currentPath();
    let element = path;
    if (this.entry && path.startsWith(NTRY)) element = this.entry.location + path.slice(NTRY.length);
    else if (this.statementCount > 0 && path.startsWith(STMT)) element = `Stmt[${this.statementCount}]${path.slice(STMT.length)}`;
    const line = this.entry && path === NTRY ? this.entry.line : this.parser.line;
    throw new StatementParseError(reason, element ? `line ${line} (${element})` : `line ${line}`);
  }
}

function amount(text: string, currency: string | undefined): number {
  if (!currency) throw new FieldError('Amt has no Ccy');
  if (!CURRENCY.test(currency)) throw new FieldError(`Amt currency '${currency}' is not an ISO 4217 code`);
  if (text.startsWith('-')) throw new FieldError(`negative amount '${text}' (the direction belongs in CdtDbtInd)`);
  try {
    return decimalToMinorUnits(text, minorUnitDigits(currency));
  } catch (error) {
    if (error instanceof AmountFormatError) throw new FieldError(`amount ${error.message}`);
    throw error;
  }
}

/**
 * The transfers of a batch entry (one Ntry booking several TxDtls, e.g. a payment file's tranches credited together),
 * when the file gives each its own amount and they add up to the entry's: each is then an entry of its own, matched
 * on its own amount and reference. Anything less (one TxDtls, amounts missing or in another currency or direction,
 * a sum that differs, as banks that fill TxDtls/Amt with placeholders write it) keeps the entry whole.
 */
function batchTransfers(draft: EntryDraft): TransactionDraft[] | null {
  const transfers = draft.transactions;
  if (transfers.length < 2) return null;
  let sum = 0;
  for (const transfer of transfers) {
    if (typeof transfer.amount !== 'number' || transfer.amount <= 0 || transfer.currency !== draft.currency) return null;
    if (transfer.creditDebit !== undefined && transfer.creditDebit !== draft.creditDebit) return null;
    sum += transfer.amount;
  }
  return sum === draft.amount ? transfers : null;
}

/**
 * An entry kept whole reads as one transfer: every transaction's lines in file order, and the first transaction's ids
 * and parties; the entry's own servicer reference (the bank's) before a transaction's.
 */
function wholeEntry(draft: EntryDraft): TransactionDraft {
  const whole: TransactionDraft = { remittanceLines: [], structuredReferences: [], additionalLines: [], servicerReference: draft.accountServicerReference };
  for (const transfer of draft.transactions) {
    whole.remittanceLines.push(...transfer.remittanceLines);
    whole.structuredReferences.push(...transfer.structuredReferences);
    whole.additionalLines.push(...transfer.additionalLines);
    whole.endToEndId ??= transfer.endToEndId;
    whole.instructionId ??= transfer.instructionId;
    whole.servicerReference ??= transfer.servicerReference;
    whole.debtorName ??= transfer.debtorName;
    whole.creditorName ??= transfer.creditorName;
  }
  return whole;
}

/** A transaction's amount, null when it cannot be read: only a batch's split uses it, so it never fails the file. */
function readTransactionAmount(transfer: TransactionDraft, text: string): void {
  transfer.currency = transfer.openCurrency;
  try {
    transfer.amount = amount(text, transfer.currency);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    transfer.amount = null;
  }
}

function creditDebit(value: string): CreditDebit {
  if (value !== 'CRDT' && value !== 'DBIT') throw new FieldError(`CdtDbtInd '${value}' is neither CRDT nor DBIT`);
  return value;
}

function date(value: string, field: string): string {
  const match = DATE.exec(value);
  if (!match || !isCalendarDate(match[1])) throw new FieldError(`${field} '${value}' is not a date`);
  return match[1];
}

/**
 * A date-time's day in China time, the fund's and its hospitals': a bank writing UTC books at 16:30Z what is the next
 * morning in Shanghai, and a month's last entries would fall in the month before. Without an offset, the day as
 * written (the bank's own local time). `writtenDay` is the day as written where that is another day.
 */
function daysOf(dateTimeValue: string): { day: string; writtenDay?: string } {
  const written = dateTimeValue.slice(0, 10);
  if (!ENDS_WITH_OFFSET.test(dateTimeValue)) return { day: written };
  // A leap second (:60) is no instant JavaScript reads; its day is its second before's. China time is UTC+8 all year
  // (no summer time since 1991): added, not looked up, as a 200,000-entry statement may date every entry so.
  // DATE_TIME admitted only offsets JavaScript reads.
  const instant = Date.parse(dateTimeValue.replace(/:60(?=(?:\.\d+)?(?:Z|[+-]))/, ':59'));
  const day = new Date(instant + CHINA_OFFSET_MS).toISOString().slice(0, 10);
  return day === written ? { day } : { day, writtenDay: written };
}

function dateTime(value: string, field: string): string {
  const match = DATE_TIME.exec(value);
  if (!match || !isCalendarDate(match[1])) throw new FieldError(`${field} '${value}' is not a date-time`);
  return value;
}

function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
