import { isCsvStatementHeader, parseCsvStatement } from 'src/reconciliation/parsers/csv-statement.parser';
import { ParsedStatementEntry, StatementItem, StatementParseError } from 'src/reconciliation/parsers/statement-entry';

const HEADER = 'date,amount,currency,reference,counterparty,description';

async function* chunksOf(input: string | Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function parseAll(input: string | Buffer, chunkSize?: number): Promise<StatementItem[]> {
  const items: StatementItem[] = [];
  for await (const item of parseCsvStatement(chunksOf(input, chunkSize))) items.push(item);
  return items;
}

async function entriesOf(input: string | Buffer): Promise<ParsedStatementEntry[]> {
  return (await parseAll(input)).flatMap((item) => (item.kind === 'entry' ? [item.entry] : []));
}

async function parseError(input: string | Buffer): Promise<StatementParseError> {
  try {
    await parseAll(input);
  } catch (error) {
    if (error instanceof StatementParseError) return error;
    throw error;
  }
  throw new Error('expected a StatementParseError');
}

describe('parseCsvStatement', () => {
  it('reads credits and debits into the common entry shape, header first', async () => {
    const csv = [
      HEADER,
      '2026-03-02,50000.00,CNY,SPR-2026-000123-1,上海儿童医学中心,Grant tranche 1',
      '2026-03-03,-12.5,cny,,,"bank fee, March"',
    ].join('\n');
    expect(await parseAll(csv)).toEqual([
      { kind: 'header', header: {} },
      {
        kind: 'entry',
        entry: {
          index: 0,
          location: 'line 2',
          bookingDate: '2026-03-02',
          amount: 5_000_000,
          creditDebit: 'CRDT',
          currency: 'CNY',
          remittance: 'Grant tranche 1',
          structuredReferences: ['SPR-2026-000123-1'],
          counterparty: '上海儿童医学中心',
        },
      },
      {
        kind: 'entry',
        entry: {
          index: 1,
          location: 'line 3',
          bookingDate: '2026-03-03',
          amount: 1250,
          creditDebit: 'DBIT',
          currency: 'CNY',
          remittance: 'bank fee, March',
          structuredReferences: [],
        },
      },
    ]);
  });

  it("reads an amount in the currency's own minor units (kwd: three decimals, JPY: none)", async () => {
    const csv = [HEADER, '2026-03-02,100.00,CNY,,,', '2026-03-02,12.345,kwd,,,', '2026-03-02,-1500,JPY,,,'].join('\n');
    const entries = (await parseAll(csv)).flatMap((item) => (item.kind === 'entry' ? [item.entry] : []));
    expect(entries.map((e) => [e.currency, e.amount, e.creditDebit])).toEqual([
      ['CNY', 10_000, 'CRDT'],
      ['KWD', 12_345, 'CRDT'],
      ['JPY', 1_500, 'DBIT'],
    ]);
  });

  it('reads RMB, as Chinese banks write the yuan, as CNY', async () => {
    const entries = await entriesOf([HEADER, '2026-03-02,120.00,RMB,SPR-2026-000009-2,,', '2026-03-02,1.00,rmb,,,'].join('\n'));
    expect(entries.map((e) => [e.currency, e.amount])).toEqual([['CNY', 12_000], ['CNY', 100]]);
  });

  it('keeps an entry in any other three letters (CNH, offshore yuan, is no ISO code): one line never refuses the file', async () => {
    const entries = await entriesOf([HEADER, '2026-03-02,120.00,CNY,,,', '2026-03-02,5.00,CNH,,,', '2026-03-02,1.00,xau,,,'].join('\n'));
    expect(entries.map((e) => e.currency)).toEqual(['CNY', 'CNH', 'XAU']);
  });

  it('takes the columns in any order, in any case, with a BOM and CRLF line ends', async () => {
    const csv = '\uFEFFDescription,Reference,Amount,Date,Currency,Counterparty\r\nmemo,REF-1,8.850,2026-03-02,CNY,Donor\r\n';
    const [entry] = await entriesOf(csv);
    expect(entry).toMatchObject({ bookingDate: '2026-03-02', amount: 885, remittance: 'memo', structuredReferences: ['REF-1'], counterparty: 'Donor' });
  });

  it('yields only the header for a file without rows, and skips blank lines while counting them', async () => {
    expect(await parseAll(`${HEADER}\n`)).toEqual([{ kind: 'header', header: {} }]);
    const [entry] = await entriesOf(`${HEADER}\n\n\n2026-03-02,1.00,CNY,,,\n`);
    expect(entry.location).toBe('line 4');
  });

  it('names the line where a multi-line quoted row starts', async () => {
    const csv = `${HEADER}\n2026-03-02,1.00,CNY,,,"two\nlines"\n2026-03-02,1.5.0,CNY,,,\n`;
    expect((await parseError(csv)).message).toBe("line 4: amount '1.5.0' is not a decimal");
    const [first] = await entriesOf(`${HEADER}\n2026-03-02,1.00,CNY,,,"two\nlines"\n`);
    expect(first).toMatchObject({ location: 'line 2', remittance: 'two\nlines' });
  });

  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('counts a CRLF inside a quoted field as one line break, in a file whose rows end in %s', async (_name, end) => {
    const rows = [HEADER, '2026-03-02,1.00,CNY,,,"two\r\nlines"', '2026-03-02,2.00,CNY,,,"three\r\nmore\r\nlines"', '2026-03-02,3.00,CNY,,,one'];
    const entries = await entriesOf(rows.join(end) + end);
    expect(entries.map((e) => [e.location, e.remittance])).toEqual([
      ['line 2', 'two\r\nlines'],
      ['line 4', 'three\r\nmore\r\nlines'],
      ['line 7', 'one'],
    ]);
    // The 400 names the right line too: a bad row, and a syntax error csv-parse finds itself.
    expect((await parseError([...rows, '2026-03-02,1.5.0,CNY,,,'].join(end) + end)).message).toBe("line 8: amount '1.5.0' is not a decimal");
    expect((await parseError([...rows, '2026-03-02,1.00,CNY,,,"closed"too early'].join(end) + end)).location).toBe('line 8');
  });

  it.each([
    ['12,5', `2026-03-02,"12,5",CNY,,,`, "line 7: amount '12,5' is not a decimal"],
    ['-12,5', `2026-03-02,"-12,5",CNY,,,`, "line 7: amount '-12,5' is not a decimal"],
    ['8.851', '2026-03-02,8.851,CNY,,,', "line 7: amount '8.851' has more than two significant decimals"],
    ['empty amount', '2026-03-02,,CNY,,,', "line 7: amount '' is not a decimal"],
    ['+5', '2026-03-02,+5.00,CNY,,,', "line 7: amount '+5.00' is not a decimal"],
    ['--5', '2026-03-02,--5.00,CNY,,,', "line 7: amount '--5.00' is not a decimal"],
    ['too large', '2026-03-02,10000000000.01,CNY,,,', "line 7: amount '10000000000.01' is more than 10000000000.00, the most one statement entry may hold"],
    ['four decimals in KWD', '2026-03-02,12.3456,KWD,,,', "line 7: amount '12.3456' has more than three significant decimals"],
    ['impossible date', '2026-02-29,1.00,CNY,,,', "line 7: date '2026-02-29' is not a date (YYYY-MM-DD)"],
    ['other date format', '02/03/2026,1.00,CNY,,,', "line 7: date '02/03/2026' is not a date (YYYY-MM-DD)"],
    ['bad currency', '2026-03-02,1.00,RMB¥,,,', "line 7: currency 'RMB¥' is not an ISO 4217 code (CNY, or RMB as Chinese banks write it)"],
    ['the yuan in Chinese', '2026-03-02,1.00,人民币,,,', "line 7: currency '人民币' is not an ISO 4217 code (CNY, or RMB as Chinese banks write it)"],
    ['missing field', '2026-03-02,1.00,CNY,,', 'line 7: expected 6 fields, found 5'],
    ['extra field', '2026-03-02,1.00,CNY,,,,', 'line 7: expected 6 fields, found 7'],
  ])('refuses a row with %s, naming its line', async (_name, row, message) => {
    const good = '2026-03-02,1.00,CNY,,,';
    const csv = [HEADER, good, good, good, good, good, row].join('\n');
    expect((await parseError(csv)).message).toBe(message);
  });

  it.each([
    ['an extra column', `${HEADER},fee`, "line 1: unexpected column 'fee'; the header must be date,amount,currency,reference,counterparty,description"],
    ['a missing column', 'date,amount,currency,reference,description', "line 1: missing column 'counterparty'"],
    ['a repeated column', 'date,amount,currency,reference,counterparty,date', "line 1: column 'date' appears twice"],
    ['semicolons', HEADER.replace(/,/g, ';'), `line 1: unexpected column '${HEADER.replace(/,/g, ';')}'; the header must be ${HEADER}`],
  ])('refuses a header with %s', async (_name, header, message) => {
    expect((await parseError(`${header}\n2026-03-02,1.00,CNY,,,\n`)).message).toBe(message);
  });

  it('refuses an empty file', async () => {
    expect((await parseError('')).message).toBe(`line 1: the file is empty; expected the header ${HEADER}`);
  });

  it('refuses an unclosed quote', async () => {
    expect((await parseError(`${HEADER}\n2026-03-02,1.00,CNY,,,"never closed\n`)).reason).toBe('a quoted field is never closed');
  });

  it('refuses text that is not UTF-8 (a GBK export) instead of garbling names', async () => {
    const gbk = Buffer.concat([Buffer.from(`${HEADER}\n2026-03-02,1.00,CNY,,`), Buffer.from([0xc9, 0xcf, 0xba, 0xa3]), Buffer.from(',\n')]);
    expect((await parseError(gbk)).message).toBe('line 2: the file is not UTF-8 text');
  });

  it('gives the same result whatever the chunk boundaries, even inside a multi-byte character', async () => {
    const csv = `${HEADER}\n2026-03-02,50000.00,CNY,SPR-2026-000123-1,再生障碍性贫血基金,"拨款, 第一期"\n2026-03-03,1.00,CNY,,,\n`;
    const whole = await parseAll(csv);
    expect(await parseAll(csv, 1)).toEqual(whole);
    expect(await parseAll(csv, 5)).toEqual(whole);
  });

  it('streams: entries come out while the file is still being read', async () => {
    let chunksRead = 0;
    async function* largeFile(): AsyncGenerator<Buffer> {
      chunksRead++;
      yield Buffer.from(`${HEADER}\n`);
      for (let block = 0; block < 20; block++) {
        chunksRead++;
        yield Buffer.from('2026-03-02,50000.00,CNY,SPR-2026-000123-1,Fund,tranche\n'.repeat(1000));
      }
    }
    let entries = 0;
    let chunksReadAtFirstEntry = 0;
    for await (const item of parseCsvStatement(largeFile())) {
      if (item.kind !== 'entry') continue;
      if (entries++ === 0) chunksReadAtFirstEntry = chunksRead;
    }
    expect(entries).toBe(20_000);
    expect(chunksReadAtFirstEntry).toBeLessThan(5);
  });
});

describe('isCsvStatementHeader', () => {
  it.each([
    [['date', 'amount', 'currency', 'reference', 'counterparty', 'description'], true],
    [['Description', ' reference', 'AMOUNT', 'date', 'currency', 'counterparty'], true],
    [['date', 'amount', 'currency', 'reference', 'counterparty'], false],
    [['date', 'amount', 'currency', 'reference', 'counterparty', 'description', 'fee'], false],
    [['date', 'date', 'currency', 'reference', 'counterparty', 'description'], false],
  ])('%p → %p', (names, expected) => {
    expect(isCsvStatementHeader(names)).toBe(expected);
  });
});
