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
