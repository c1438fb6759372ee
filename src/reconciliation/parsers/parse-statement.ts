import { parseCamt053 } from 'src/reconciliation/parsers/camt053.parser';
import { parseCsvStatement } from 'src/reconciliation/parsers/csv-statement.parser';
import { StatementFormat } from 'src/reconciliation/parsers/detect-statement-format';
import { StatementItem } from 'src/reconciliation/parsers/statement-entry';

/**
 * The one entry point of the import: yields a header, then the entries it describes (camt.053 repeats
 * this per Stmt). Throws StatementParseError with the line (and element) that failed; a caller that
 * stores entries must do so in one transaction so that a late error leaves nothing behind.
 */
export function parseStatement(source: AsyncIterable<Buffer>, format: StatementFormat): AsyncGenerator<StatementItem> {
  switch (format) {
    case 'camt.053':
      return parseCamt053(source);
    case 'csv':
      return parseCsvStatement(source);
    default:
      throw new Error(`unknown statement format ${String(format satisfies never)}`);
  }
}

/**
 * Reads at least `size` bytes (less if the file is shorter) for detectStatementFormat, and gives back a
 * source that replays them before the rest, so an upload stream is read once and never held whole.
 * A caller that does not go on to read the returned source must close the original one itself.
 */
export async function peekHead(
  source: AsyncIterable<Buffer>,
  size = 4096,
): Promise<{ head: Buffer; source: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    seen.push(chunk);
    length += chunk.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield* seen.splice(0);
      if (done) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      // Closes the upload stream when the parser stops early on an error.
      await iterator.return?.();
    }
  }
  return { head: Buffer.concat(seen).subarray(0, size), source: replay() };
}
