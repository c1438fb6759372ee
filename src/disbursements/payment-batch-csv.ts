/**
 * The payment batch file for the fund's bank: one line per tranche to pay. Amounts in yuan with two decimals,
 * formatted from integer fen by integer arithmetic only.
 */
export type PaymentBatchLine = {
  reference: string;
  hospital: string;
  bankName: string;
  accountName: string;
  accountNumber: string;
  /** Minor units (fen). */
  amount: number;
};

export const PAYMENT_BATCH_HEADER = ['reference', 'hospital', 'bank_name', 'account_name', 'account_number', 'amount', 'currency'] as const;

/** 123456 fen → "1234.56"; negative amounts keep their sign ("-0.05"). */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`${fen} is not a whole number of fen`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

// A cell a spreadsheet would read as a formula (OWASP "CSV injection"): =, +, -, @, and tab/CR/LF that some
// programs strip before looking. Such cells get a leading apostrophe, which shows the text as written.
const FORMULA_START = /^[=+\-@\t\r\n]/;

/** One RFC 4180 cell: formula starts neutralised, then quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The whole file: header and lines, CRLF line ends (RFC 4180). Amounts are positive, so no amount cell is neutralised. */
export function paymentBatchCsv(lines: readonly PaymentBatchLine[]): string {
  let out = csvLine(PAYMENT_BATCH_HEADER);
  for (const l of lines) {
    out += csvLine([l.reference, l.hospital, l.bankName, l.accountName, l.accountNumber, formatYuan(l.amount), 'CNY']);
  }
  return out;
}
