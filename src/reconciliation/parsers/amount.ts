/**
 * Decimal amount text ⇄ integer minor units (hundredths of the currency unit), without floating point.
 *
 * Grammar: one or more digits, optionally a point followed by one or more digits. No sign, exponent,
 * spaces, thousands separators or empty string. ".5" and "5." are refused: bank files and payment
 * batches always write a digit on both sides of the point, so a bare point means a damaged value.
 * Any number of trailing zeros is fine ("8.850" → 885); a third significant decimal is an error
 * ("8.851"), because rounding money silently is never right.
 */

export const MAX_MINOR_UNITS = 10 ** 15;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const MAX_TEXT_LENGTH = 64;

export class AmountFormatError extends Error {
  override readonly name = 'AmountFormatError';

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`'${input.length > MAX_TEXT_LENGTH ? `${input.slice(0, MAX_TEXT_LENGTH)}…` : input}' ${reason}`);
  }
}

export function decimalToMinorUnits(text: string): number {
  const match = text.length <= MAX_TEXT_LENGTH ? DECIMAL.exec(text) : null;
  if (!match) throw new AmountFormatError(text, 'is not a decimal');
  const [, whole, fraction = ''] = match;
  const cents = fraction.padEnd(2, '0').slice(0, 2);
  if (/[^0]/.test(fraction.slice(2))) {
    throw new AmountFormatError(text, 'has more than two significant decimals');
  }
  const minorUnits = BigInt(whole + cents);
  if (minorUnits > BigInt(MAX_MINOR_UNITS)) throw new AmountFormatError(text, 'is too large');
  return Number(minorUnits);
}

export function minorUnitsToDecimal(minorUnits: number | bigint): string {
  if (typeof minorUnits === 'number' && !Number.isSafeInteger(minorUnits)) {
    throw new RangeError(`${minorUnits} is not a whole number of minor units`);
  }
  const value = BigInt(minorUnits);
  const sign = value < 0n ? '-' : '';
  const digits = (value < 0n ? -value : value).toString().padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
