import { FenAmount } from 'src/notifications/templates/template-contexts';

const FEN_PATTERN = /^-?\d+$/;

/** Formats integer fen as `¥1,234.56`, exactly: bigint division, never floating point. */
export function formatYuan(amount: FenAmount | bigint): string {
  const fen = toFen(amount);
  const sign = fen < 0n ? '-' : '';
  const absolute = fen < 0n ? -fen : fen;
  const yuan = (absolute / 100n).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  const cents = (absolute % 100n).toString().padStart(2, '0');
  return `${sign}¥${yuan}.${cents}`;
}

function toFen(amount: unknown): bigint {
  if (typeof amount === 'bigint') return amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return BigInt(amount);
  if (typeof amount === 'string' && FEN_PATTERN.test(amount)) return BigInt(amount);
  throw new TypeError('money expects an integer amount in fen');
}
