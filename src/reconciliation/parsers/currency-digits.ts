/**
 * ISO 4217 minor-unit digits of the currencies that do not have two; every other code, known or not, has two.
 * A statement entry's amount is stored in its own currency's minor units: fen for CNY, fils for KWD, yen for JPY.
 */
const NOT_TWO: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** How many decimals the currency's minor unit has (upper-case ISO 4217 code). */
export function minorUnitDigits(currency: string): number {
  return Object.hasOwn(NOT_TWO, currency) ? NOT_TWO[currency] : 2;
}

const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * The currency code a statement's currency column means, or null when it is not three letters. Chinese banks' exports
 * often write the yuan as RMB (renminbi), which is no ISO code: read as anything but CNY, a payment of the fund in such
 * a file would be ignored as foreign money, its tranche left unreconciled with nobody told. Any other three letters
 * stand (an entry not in CNY is kept as ignored): a list of codes would refuse a whole file for one line in a code it
 * lacks (CNH, offshore yuan, is no ISO code either), and one from the runtime (Intl) differs between builds.
 */
export function statementCurrency(written: string): string | null {
  const code = written.trim().toUpperCase();
  if (code === 'RMB') return 'CNY';
  return CURRENCY_CODE.test(code) ? code : null;
}
