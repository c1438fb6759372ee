/**
 * Decimal amount text ⇄ integer minor units, without floating point. The minor unit is the currency's own
 * (currency-digits.ts): hundredths for CNY, thousandths for KWD, whole yen for JPY.
 *
 * Grammar: one or more digits, optionally a point followed by one or more digits. No sign, exponent,
 * spaces, thousands separators or empty string. ".5" and "5." are refused: bank files and payment
 * batches always write a digit on both sides of the point, so a bare point means a damaged value.
 * Any number of trailing zeros is fine ("8.850" → 885); a significant decimal past the minor unit is an
 * error ("8.851" in CNY), because rounding money silently is never right.
 */

/**
 * 10^12 minor units (10,000,000,000.00 yuan) per entry. A hospital's statement never holds anything near it, so a
 * larger value is damage; and the report's sums of entries stay exact arithmetic on modest numbers.
 */
export const MAX_MINOR_UNITS = 10 ** 12;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const MAX_TEXT_LENGTH = 64;
const DIGIT_WORDS = ['no', 'one', 'two', 'three', 'four'];

export class AmountFormatError extends Error {
  override readonly name = 'AmountFormatError';

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`'${input.length > MAX_TEXT_LENGTH ? `${input.slice(0, MAX_TEXT_LENGTH)}…` : input}' ${reason}`);
  }
}

/** `digits`: the currency's minor-unit digits (minorUnitDigits); 2 for CNY. */
export function decimalToMinorUnits(text: string, digits = 2): number {
  const match = text.length <= MAX_TEXT_LENGTH ? DECIMAL.exec(text) : null;
  if (!match) throw new AmountFormatError(text, 'is not a decimal');
  const [, whole, fraction = ''] = match;
  if (/[^0]/.test(fraction.slice(digits))) {
    const reason = digits === 0 ? 'has significant decimals, which the currency has none of' : `has more than ${DIGIT_WORDS[digits] ?? digits} significant decimals`;
    throw new AmountFormatError(text, reason);
  }
  const minorUnits = BigInt(whole + fraction.padEnd(digits, '0').slice(0, digits));
  if (minorUnits > BigInt(MAX_MINOR_UNITS)) {
    throw new AmountFormatError(text, `is more than ${minorUnitsToDecimal(MAX_MINOR_UNITS, digits)}, the most one statement entry may hold`);
  }
  return Number(minorUnits);
}

export function minorUnitsToDecimal(minorUnits: number | bigint, digits = 2): string {
  if (typeof minorUnits === 'number' && !Number.isSafeInteger(minorUnits)) {
    throw new RangeError(`${minorUnits} is not a whole number of minor units`);
  }
  const value = BigInt(minorUnits);
  const sign = value < 0n ? '-' : '';
  const text = (value < 0n ? -value : value).toString();
  if (digits === 0) return `${sign}${text}`;
  const padded = text.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}
