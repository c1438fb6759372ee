import { createReadStream, readFileSync } from 'fs';
import path from 'path';
import { detectStatementFormat } from 'src/reconciliation/parsers/detect-statement-format';
import { parseStatement, peekHead } from 'src/reconciliation/parsers/parse-statement';
import { StatementItem, StatementParseError } from 'src/reconciliation/parsers/statement-entry';
import { CAMT053_FIXTURES } from 'test/fixtures/camt053';


async function* chunksOf(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('parseStatement', () => {
  it('detects and parses a real camt.053 upload read once from a stream', async () => {
    const file = path.join(CAMT053_FIXTURES, 'camt053.v4.xml');
    const { head, source } = await peekHead(createReadStream(file, { highWaterMark: 512 }));
    const format = detectStatementFormat(head);
    expect(format).toBe('camt.053');
    const items = await collect(parseStatement(source, format as 'camt.053'));
    expect(items.map((item) => item.kind)).toEqual(['header', 'entry']);
    expect(items[1]).toMatchObject({ entry: { amount: 885, currency: 'EUR', creditDebit: 'CRDT', bookingDate: '2014-12-31' } });
  });

  it('detects and parses a CSV upload', async () => {
    const csv = 'date,amount,currency,reference,counterparty,description\n2026-03-02,50000.00,CNY,SPR-2026-000123-1,Fund,tranche\n';
    const { head, source } = await peekHead(chunksOf(csv, 3), 16);
    expect(detectStatementFormat(head)).toBeNull(); // 16 bytes do not hold the whole header line
    const whole = await peekHead(chunksOf(csv, 3));
    expect(detectStatementFormat(whole.head)).toBe('csv');
    const items: StatementItem[] = await collect(parseStatement(whole.source, 'csv'));
    expect(items).toHaveLength(2);
    expect(Buffer.concat(await collect(source)).toString('utf8')).toBe(csv);
  });

  it('replays exactly the bytes of the file after peeking', async () => {
    const bytes = readFileSync(path.join(CAMT053_FIXTURES, 'camt053.v2.minimal.xml'));
    for (const size of [1, 100, 4096, bytes.length + 1]) {
      const { head, source } = await peekHead(createReadStream(path.join(CAMT053_FIXTURES, 'camt053.v2.minimal.xml'), { highWaterMark: 64 }), size);
      expect(head).toEqual(bytes.subarray(0, size));
      expect(Buffer.concat(await collect(source))).toEqual(bytes);
    }
  });

  it('passes parse errors through with their location', async () => {
    const items = parseStatement(chunksOf('date,amount,currency,reference,counterparty,description\n2026-03-02,1.0.0,CNY,,,\n', 8), 'csv');
    await expect(collect(items)).rejects.toThrow(new StatementParseError("amount '1.0.0' is not a decimal", 'line 2'));
  });

  it('closes the source when parsing stops early', async () => {
    let closed = false;
    async function* upload(): AsyncGenerator<Buffer> {
      try {
        yield Buffer.from('<Document xmlns="urn:other">');
        yield Buffer.from('</Document>');
      } finally {
        closed = true;
      }
    }
    const { source } = await peekHead(upload(), 4);
    await expect(collect(parseStatement(source, 'camt.053'))).rejects.toThrow(StatementParseError);
    expect(closed).toBe(true);
  });

  it('refuses an unknown format', () => {
    expect(() => parseStatement(chunksOf('', 1), 'ofx' as never)).toThrow('unknown statement format ofx');
  });
});
