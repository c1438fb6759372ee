export class TrancheSplitError extends Error {
  override readonly name = 'TrancheSplitError';
}

const SHARE = /^(\d+)(?:\.(\d+))?$/;
const MAX_SHARE_DIGITS = 30;

/**
 * Splits a grant of `total` minor units into tranches by decimal `shares` that sum to exactly 1,
 * in integers that sum to exactly `total` (largest remainder method). Each part is the exact share
 * rounded down, and the fen left over go one each to the parts with the largest remainders, ties to
 * the earliest tranche, so the result is deterministic and never more than 1 fen from the exact share.
 * Exact rational arithmetic in bigint: shares a/10^k, no floating point anywhere.
 */
export function splitIntoTranches(total: number, shares: readonly string[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new TrancheSplitError(`total ${total} is not a whole number of minor units ≥ 0`);
  if (shares.length === 0) throw new TrancheSplitError('at least one share is needed');
  const { numerators, denominator } = toCommonDenominator(shares);
  const sum = numerators.reduce((a, b) => a + b, 0n);
  if (sum !== denominator) throw new TrancheSplitError(`shares ${shares.join(' + ')} do not add up to exactly 1`);

  const exact = numerators.map((numerator) => BigInt(total) * numerator);
  const parts = exact.map((value) => value / denominator);
  let leftover = BigInt(total) - parts.reduce((a, b) => a + b, 0n);
  const byRemainderThenPosition = exact
    .map((value, position) => ({ remainder: value % denominator, position }))
    .sort((a, b) => (a.remainder === b.remainder ? a.position - b.position : a.remainder > b.remainder ? -1 : 1));
  for (const { position } of byRemainderThenPosition) {
    if (leftover === 0n) break;
    parts[position] += 1n;
    leftover -= 1n;
  }
  return parts.map(Number);
}

function toCommonDenominator(shares: readonly string[]): { numerators: bigint[]; denominator: bigint } {
  const parsed = shares.map((share, position) => {
    const match = share.length <= MAX_SHARE_DIGITS ? SHARE.exec(share) : null;
    if (!match) throw new TrancheSplitError(`share ${position + 1} '${share}' is not a decimal like 0.25`);
    return { whole: match[1], fraction: match[2] ?? '' };
  });
  const digits = Math.max(...parsed.map(({ fraction }) => fraction.length));
  const numerators = parsed.map(({ whole, fraction }, position) => {
    const numerator = BigInt(whole + fraction.padEnd(digits, '0'));
    if (numerator === 0n) throw new TrancheSplitError(`share ${position + 1} '${shares[position]}' is zero`);
    return numerator;
  });
  return { numerators, denominator: 10n ** BigInt(digits) };
}
