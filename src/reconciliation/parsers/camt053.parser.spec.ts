import { entryFingerprint } from 'src/reconciliation/entry-fingerprint';
import { entryReferences } from 'src/reconciliation/matching';
import { parseCamt053 } from 'src/reconciliation/parsers/camt053.parser';
import { ParsedStatementEntry, StatementItem, StatementParseError } from 'src/reconciliation/parsers/statement-entry';

const camtDocument = (statements: string, version = '08') =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}">`,
    '<BkToCstmrStmt>',
    '<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-03T06:00:00+08:00</CreDtTm></GrpHdr>',
    statements,
    '</BkToCstmrStmt>',
    '</Document>',
  ].join('\n');

const statement = (entries: string, id = 'STMT-1') =>
  [
    `<Stmt><Id>${id}</Id><CreDtTm>2026-03-03T06:00:00+08:00</CreDtTm>`,
    '<FrToDt><FrDtTm>2026-03-02T00:00:00+08:00</FrDtTm><ToDtTm>2026-03-02T23:59:59+08:00</ToDtTm></FrToDt>',
    '<Acct><Id><IBAN>CN0012345678901234</IBAN></Id><Ccy>CNY</Ccy></Acct>',
    entries,
    '</Stmt>',
  ].join('\n');

const entry = ({
  amount = '<Amt Ccy="CNY">50000.00</Amt>',
  creditDebit = '<CdtDbtInd>CRDT</CdtDbtInd>',
  status = '<Sts><Cd>BOOK</Cd></Sts>',
  bookingDate = '<BookgDt><Dt>2026-03-02</Dt></BookgDt>',
  rest = '',
} = {}) => ['<Ntry>', amount, creditDebit, status, bookingDate, rest, '</Ntry>'].join('\n');

async function* chunksOf(text: string, size = 64 * 1024): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function parseAll(text: string, chunkSize?: number): Promise<StatementItem[]> {
  const items: StatementItem[] = [];
  for await (const item of parseCamt053(chunksOf(text, chunkSize))) items.push(item);
  return items;
}

async function entriesOf(text: string): Promise<ParsedStatementEntry[]> {
  return (await parseAll(text)).flatMap((item) => (item.kind === 'entry' ? [item.entry] : []));
}

async function parseError(text: string | Buffer): Promise<StatementParseError> {
  const source = typeof text === 'string' ? chunksOf(text) : (async function* () { yield text; })();
  try {
    for await (const item of parseCamt053(source)) void item;
  } catch (error) {
    if (error instanceof StatementParseError) return error;
    throw error;
  }
  throw new Error('expected a StatementParseError');
}

describe('parseCamt053', () => {
  it('reads every field of a credit entry in the version 08+ layout', async () => {
    const details = `
      <AcctSvcrRef>BANK-REF-1</AcctSvcrRef>
      <NtryDtls><TxDtls>
        <Refs><InstrId>INSTR-1</InstrId><EndToEndId>SPR-2026-000123-1</EndToEndId></Refs>
        <RltdPties>
          <Dbtr><Pty><Nm>上海儿童医学中心 AA 救助基金</Nm></Pty></Dbtr>
          <Cdtr><Pty><Nm>Hospital</Nm></Pty></Cdtr>
        </RltdPties>
        <RmtInf>
          <Ustrd>Grant tranche</Ustrd>
          <Ustrd> SPR-2026-000123-1 </Ustrd>
          <Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf><AddtlRmtInf>first tranche</AddtlRmtInf></Strd>
        </RmtInf>
        <AddtlTxInf>transfer memo</AddtlTxInf>
      </TxDtls></NtryDtls>
      <AddtlNtryInf>CNAPS credit</AddtlNtryInf>`;
    const items = await parseAll(
      camtDocument(
        statement(entry({ bookingDate: '<BookgDt><DtTm>2026-03-02T23:30:00+08:00</DtTm></BookgDt><ValDt><Dt>2026-03-03</Dt></ValDt>', rest: details })),
      ),
    );

    expect(items).toEqual([
      {
        kind: 'header',
        header: {
          statementId: 'STMT-1',
          accountIban: 'CN0012345678901234',
          currency: 'CNY',
          createdAt: '2026-03-03T06:00:00+08:00',
          fromDate: '2026-03-02T00:00:00+08:00',
          toDate: '2026-03-02T23:59:59+08:00',
        },
      },
      {
        kind: 'entry',
        entry: {
          index: 0,
          location: 'Stmt[1]/Ntry[1]',
          bookingDate: '2026-03-02',
          valueDate: '2026-03-03',
          amount: 5_000_000,
          creditDebit: 'CRDT',
          currency: 'CNY',
          status: 'BOOK',
          accountServicerReference: 'BANK-REF-1',
          endToEndId: 'SPR-2026-000123-1',
          instructionId: 'INSTR-1',
          remittance: 'Grant tranche SPR-2026-000123-1',
          structuredReferences: ['RF18539007547034', 'first tranche'],
          counterparty: '上海儿童医学中心 AA 救助基金',
          additionalInfo: 'CNAPS credit transfer memo',
        },
      },
    ]);
  });

  it('names the creditor as the counterparty of a debit, and reads the plain Sts of older versions', async () => {
    const parties = '<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Us</Nm></Dbtr><Cdtr><Nm>Supplier Ltd</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>';
    const [debit] = await entriesOf(
      camtDocument(statement(entry({ creditDebit: '<CdtDbtInd>DBIT</CdtDbtInd>', status: '<Sts>PDNG</Sts>', rest: parties })), '02'),
    );
    expect(debit).toMatchObject({ creditDebit: 'DBIT', counterparty: 'Supplier Ltd', status: 'PDNG', amount: 5_000_000 });
  });

  it('marks reversals and falls back to the transaction-level servicer reference', async () => {
    const rest = '<RvslInd>true</RvslInd><NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-REF</AcctSvcrRef></Refs></TxDtls></NtryDtls>';
    const [reversal] = await entriesOf(camtDocument(statement(entry({ rest }))));
    expect(reversal).toMatchObject({ reversal: true, accountServicerReference: 'TX-REF' });
    const [plain] = await entriesOf(camtDocument(statement(entry({ rest: '<RvslInd>false</RvslInd>' }))));
    expect(plain).not.toHaveProperty('reversal');
  });

  it('leaves out what the entry does not carry', async () => {
    const [bare] = await entriesOf(camtDocument(statement(entry({ status: '' }))));
    expect(bare).toEqual({
      index: 0,
      location: 'Stmt[1]/Ntry[1]',
      bookingDate: '2026-03-02',
      amount: 5_000_000,
      creditDebit: 'CRDT',
      currency: 'CNY',
      remittance: '',
      structuredReferences: [],
    });
  });

  describe('a batch entry (one Ntry booking several transfers)', () => {
    const transfer = (amount: string, reference: string, more = '') =>
      `<TxDtls><Refs><EndToEndId>E2E-${reference}</EndToEndId></Refs>${amount}${more}` +
      `<RltdPties><Dbtr><Pty><Nm>Fund ${reference}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>${reference}</Ustrd></RmtInf></TxDtls>`;
    const batch = (total: string, transfers: string[], version = '08') =>
      camtDocument(
        statement(
          entry({
            amount: `<Amt Ccy="CNY">${total}</Amt>`,
            rest: `<AcctSvcrRef>BATCH-9</AcctSvcrRef><NtryDtls><Btch><NbOfTxs>${transfers.length}</NbOfTxs></Btch>${transfers.join('')}</NtryDtls><AddtlNtryInf>batch credit SPR-2026-000123-1 SPR-2026-000456-2</AddtlNtryInf>`,
          }) + entry({ amount: '<Amt Ccy="CNY">1.00</Amt>' }),
        ),
        version,
      );

    it('yields each transfer as an entry of its own, with its amount, references and payer, when their amounts add up', async () => {
      const entries = await entriesOf(
        batch('50000.00', [
          transfer('<Amt Ccy="CNY">30000.00</Amt>', 'SPR-2026-000123-1', '<CdtDbtInd>CRDT</CdtDbtInd>'),
          transfer('<Amt Ccy="CNY">20000.00</Amt>', 'SPR-2026-000456-2', '<AddtlTxInf>second</AddtlTxInf>'),
        ]),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          index: 0,
          location: 'Stmt[1]/Ntry[1]/TxDtls[1]',
          batchTransaction: 1,
          amount: 3_000_000,
          remittance: 'SPR-2026-000123-1',
          endToEndId: 'E2E-SPR-2026-000123-1',
          counterparty: 'Fund SPR-2026-000123-1',
          accountServicerReference: 'BATCH-9',
          creditDebit: 'CRDT',
          bookingDate: '2026-03-02',
        }),
        expect.objectContaining({
          index: 1,
          location: 'Stmt[1]/Ntry[1]/TxDtls[2]',
          batchTransaction: 2,
          amount: 2_000_000,
          remittance: 'SPR-2026-000456-2',
          counterparty: 'Fund SPR-2026-000456-2',
          additionalInfo: 'second',
        }),
        expect.objectContaining({ index: 2, location: 'Stmt[1]/Ntry[2]', amount: 100 }),
      ]);
      expect(entries[2]).not.toHaveProperty('batchTransaction');
      // The entry's note names both tranches; each transfer carries only its own reference, so each can match.
      expect(entries[0]).not.toHaveProperty('additionalInfo');
      expect(entries.slice(0, 2).map(entryReferences)).toEqual([['SPR-2026-000123-1'], ['SPR-2026-000456-2']]);
    });

    it('reads the transfer amounts of version 02 from AmtDtls/TxAmt', async () => {
      const amountOf = (yuan: string) => `<AmtDtls><InstdAmt><Amt Ccy="USD">1.00</Amt></InstdAmt><TxAmt><Amt Ccy="CNY">${yuan}</Amt></TxAmt></AmtDtls>`;
      const entries = await entriesOf(batch('50000.00', [transfer(amountOf('30000.00'), 'A'), transfer(amountOf('20000.00'), 'B')], '02'));
      expect(entries.map((e) => [e.location, e.amount])).toEqual([
        ['Stmt[1]/Ntry[1]/TxDtls[1]', 3_000_000],
        ['Stmt[1]/Ntry[1]/TxDtls[2]', 2_000_000],
        ['Stmt[1]/Ntry[2]', 100],
      ]);
    });

    it.each([
      ['the amounts do not add up to the entry', ['<Amt Ccy="CNY">30000.00</Amt>', '<Amt Ccy="CNY">19999.99</Amt>']],
      ['a transfer has no amount', ['<Amt Ccy="CNY">50000.00</Amt>', '']],
      ['a transfer is in another currency', ['<Amt Ccy="CNY">30000.00</Amt>', '<Amt Ccy="USD">20000.00</Amt>']],
      ['a transfer amount is a placeholder', ['<Amt Ccy="CNY">50000.00</Amt>', '<Amt Ccy="CNY">0</Amt>']],
      ['a transfer amount cannot be read', ['<Amt Ccy="CNY">50000.00</Amt>', '<Amt Ccy="CNY">2,0</Amt>']],
      ['a transfer goes the other way', ['<Amt Ccy="CNY">30000.00</Amt>', '<Amt Ccy="CNY">20000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>']],
    ])('keeps the entry whole when %s, reading it as before', async (_, amounts) => {
      const [whole] = await entriesOf(batch('50000.00', [transfer(amounts[0], 'SPR-2026-000123-1'), transfer(amounts[1], 'SPR-2026-000456-2')]));
      expect(whole).toEqual(
        expect.objectContaining({
          location: 'Stmt[1]/Ntry[1]',
          amount: 5_000_000,
          remittance: 'SPR-2026-000123-1 SPR-2026-000456-2',
          endToEndId: 'E2E-SPR-2026-000123-1',
          counterparty: 'Fund SPR-2026-000123-1',
          accountServicerReference: 'BATCH-9',
        }),
      );
      expect(whole).not.toHaveProperty('batchTransaction');
    });

    it('keeps an entry with a single transaction whole, whatever its amount says', async () => {
      const [one] = await entriesOf(batch('50000.00', [transfer('<Amt Ccy="SEK">0</Amt>', 'X')]));
      expect(one).toMatchObject({ location: 'Stmt[1]/Ntry[1]', amount: 5_000_000, currency: 'CNY' });
    });
  });

  it('yields each statement header before its entries and counts entries across statements', async () => {
    const items = await parseAll(
      camtDocument([statement(entry() + entry(), 'A'), statement('', 'EMPTY'), statement(entry(), 'B')].join('\n')),
    );
    expect(items.map((item) => (item.kind === 'header' ? `header ${item.header.statementId}` : `${item.entry.index} ${item.entry.location}`))).toEqual([
      'header A',
      '0 Stmt[1]/Ntry[1]',
      '1 Stmt[1]/Ntry[2]',
      'header EMPTY',
      'header B',
      '2 Stmt[3]/Ntry[1]',
    ]);
  });

  it.each(['02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13'])('accepts camt.053.001.%s', async (version) => {
    expect(await entriesOf(camtDocument(statement(entry()), version))).toHaveLength(1);
  });

  it.each([
    ['camt.053.001.01', 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.01'],
    ['camt.053.001.14', 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.14'],
    ['camt.052', 'urn:iso:std:iso:20022:tech:xsd:camt.052.001.08'],
    ['no namespace', ''],
  ])('refuses %s as not a camt.053 document', async (_name, namespace) => {
    const xml = camtDocument(statement(entry())).replace(/xmlns="[^"]*"/, namespace ? `xmlns="${namespace}"` : '');
    const error = await parseError(xml);
    expect(error.reason).toMatch(/^not a camt\.053 document/);
    expect(error.location).toBe('line 2');
  });

  it('refuses a camt.053 namespace on another root element', async () => {
    const xml = camtDocument(statement(entry())).replace('<Document ', '<Statement ').replace('</Document>', '</Statement>');
    expect((await parseError(xml)).message).toBe(
      "line 2: not a camt.053 document (root element Statement in namespace 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08')",
    );
  });

  it.each([
    ['a CSV file', 'date,amount,currency,reference,counterparty,description\n2026-03-02,1.00,CNY,,,\n'],
    ['an empty file', ''],
    ['a truncated document', camtDocument(statement(entry())).slice(0, 400)],
    ['mismatched tags', camtDocument(statement(entry())).replace('</CdtDbtInd>', '</CdtDbtIndicator>')],
  ])('refuses %s as not well-formed XML', async (_name, text) => {
    expect((await parseError(text)).reason).toMatch(/^not well-formed XML: /);
  });

  it('refuses a document without any Stmt', async () => {
    expect((await parseError(camtDocument(''))).reason).toBe('the document has no Stmt (not a bank-to-customer statement)');
  });

  it('refuses a DOCTYPE, which could smuggle entity definitions', async () => {
    const xml = camtDocument(statement(entry())).replace('<Document', '<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document');
    expect((await parseError(xml)).reason).toBe('a DOCTYPE is not allowed in a bank statement');
  });

  it('refuses elements nested absurdly deep at once, without the parser\'s work growing with the square of the depth', async () => {
    const depth = 20_000; // 140 KB; unchecked, seconds of parsing and hundreds of MB (at 40,000 the heap ran out)
    const deep = camtDocument(statement(entry({ rest: '<X>'.repeat(depth) + '</X>'.repeat(depth) })));
    expect((await parseError(deep)).reason).toBe('elements are nested more than 64 deep');
    // The deepest real camt.053 paths (13 levels) and supplementary data a little deeper are read as before.
    const nested = (levels: number) => '<SplmtryData><Envlp>' + '<Y>'.repeat(levels) + '</Y>'.repeat(levels) + '</Envlp></SplmtryData>';
    expect(await entriesOf(camtDocument(statement(entry({ rest: nested(40) }))))).toHaveLength(1);
  });

  it('refuses a long text within a chunk of the limit, without reading the rest of the file first', async () => {
    const [head, tail] = camtDocument(statement(entry({ rest: '<AddtlNtryInf>SPLIT</AddtlNtryInf>' }))).split('SPLIT');
    let chunksRead = 0;
    async function* tenMebibytesOfText(): AsyncGenerator<Buffer> {
      chunksRead++;
      yield Buffer.from(head);
      for (let i = 0; i < 640; i++, chunksRead++) yield Buffer.from('E'.repeat(16 * 1024));
      yield Buffer.from(tail);
    }
    let error: unknown;
    try {
      for await (const item of parseCamt053(tenMebibytesOfText())) void item;
    } catch (e) {
      error = e;
    }
    expect((error as StatementParseError).reason).toBe("an element's text is longer than 65536 characters");
    expect(chunksRead).toBeLessThan(10);
  });

  it('refuses an element whose text is longer than 64 KiB, and an entry whose lines are longer than 1 MiB in all', async () => {
    const remittance = (lines: string[]) =>
      `<NtryDtls><TxDtls><RmtInf>${lines.map((line) => `<Ustrd>${line}</Ustrd>`).join('')}</RmtInf></TxDtls></NtryDtls>`;
    const long = await parseError(camtDocument(statement(entry({ rest: remittance(['A'.repeat(64 * 1024 + 1)]) }))));
    expect(long.reason).toBe("an element's text is longer than 65536 characters");
    // Text outside any field the reader takes, and in CDATA, counts alike: it is held until its element closes.
    const ignored = await parseError(camtDocument(statement(entry({ rest: `<Unknown><![CDATA[${'B'.repeat(70_000)}]]></Unknown>` }))));
    expect(ignored.reason).toBe("an element's text is longer than 65536 characters");
    const many = await parseError(camtDocument(statement(entry({ rest: remittance(Array(17).fill('C'.repeat(64 * 1024))) }))));
    expect(many.reason).toBe("the entry's remittance and other texts are longer than 1048576 characters in all");
    expect(many.location).toMatch(/^line \d+ \(Stmt\[1\]\/Ntry\[1\]\/NtryDtls\/TxDtls\/RmtInf\/Ustrd\)$/);
    // At the limits, read as they are.
    const [atLimit] = await entriesOf(camtDocument(statement(entry({ rest: remittance(Array(16).fill('D'.repeat(64 * 1024))) }))));
    expect(atLimit.remittance).toHaveLength(16 * 64 * 1024 + 15);
  });

  it('refuses encodings other than UTF-8', async () => {
    const declared = camtDocument(statement(entry())).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    expect((await parseError(declared)).reason).toBe('encoding ISO-8859-1 is not supported, only UTF-8');
    const utf8Start = camtDocument(statement(entry())).slice(0, 200);
    const gbkBytes = Buffer.concat([Buffer.from(utf8Start), Buffer.from([0xc9, 0xcf, 0xba, 0xa3])]);
    const lineOfBadBytes = utf8Start.split('\n').length;
    expect(await parseError(gbkBytes)).toMatchObject({ reason: 'the file is not UTF-8 text', location: `line ${lineOfBadBytes}` });
  });

  it.each([
    ['no Amt', { amount: '' }, 'line 15 (Stmt[1]/Ntry[2]): entry has no Amt'],
    ['no CdtDbtInd', { creditDebit: '' }, 'line 15 (Stmt[1]/Ntry[2]): entry has no CdtDbtInd'],
    ['no BookgDt', { bookingDate: '' }, 'line 15 (Stmt[1]/Ntry[2]): entry has no BookgDt'],
  ])('refuses an entry with %s, naming the line where the entry starts', async (_name, fields, message) => {
    const xml = camtDocument(statement(entry() + '\n' + entry(fields)));
    expect((await parseError(xml)).message).toBe(message);
  });

  it('keeps a pending or informational entry without BookgDt, under its value date, else the statement\'s creation date', async () => {
    const entries = await entriesOf(
      camtDocument(
        statement(
          [
            entry({ status: '<Sts><Cd>PDNG</Cd></Sts>', bookingDate: '<ValDt><Dt>2026-03-04</Dt></ValDt>' }),
            entry({ status: '<Sts><Cd>INFO</Cd></Sts>', bookingDate: '' }),
            entry(),
          ].join('\n'),
        ),
      ),
    );
    expect(entries.map((e) => [e.status, e.bookingDate, e.valueDate])).toEqual([
      ['PDNG', '2026-03-04', '2026-03-04'],
      ['INFO', '2026-03-03', undefined],
      ['BOOK', '2026-03-02', undefined],
    ]);
    // Plain Sts (versions 02–07) alike; a booked entry, or one without a status (read as booked), still needs its BookgDt.
    const [older] = await entriesOf(camtDocument(statement(entry({ status: '<Sts>PDNG</Sts>', bookingDate: '' })), '04'));
    expect(older).toMatchObject({ status: 'PDNG', bookingDate: '2026-03-03' });
    expect((await parseError(camtDocument(statement(entry({ status: '', bookingDate: '' }))))).reason).toBe('entry has no BookgDt');
  });

  it.each([
    ['<Amt Ccy="CNY">8.851</Amt>', "amount '8.851' has more than two significant decimals"],
    ['<Amt Ccy="CNY">12,5</Amt>', "amount '12,5' is not a decimal"],
    ['<Amt Ccy="CNY">1e3</Amt>', "amount '1e3' is not a decimal"],
    ['<Amt Ccy="CNY"></Amt>', "amount '' is not a decimal"],
    ['<Amt Ccy="CNY">-5.00</Amt>', "negative amount '-5.00' (the direction belongs in CdtDbtInd)"],
    ['<Amt Ccy="CNY">99999999999999999.00</Amt>', "amount '99999999999999999.00' is more than 10000000000.00, the most one statement entry may hold"],
    ['<Amt Ccy="CNY">10000000000.01</Amt>', "amount '10000000000.01' is more than 10000000000.00, the most one statement entry may hold"],
    ['<Amt Ccy="KWD">12.3456</Amt>', "amount '12.3456' has more than three significant decimals"],
    ['<Amt Ccy="JPY">1500.5</Amt>', "amount '1500.5' has significant decimals, which the currency has none of"],
    ['<Amt>5.00</Amt>', 'Amt has no Ccy'],
    ['<Amt Ccy="rmb">5.00</Amt>', "Amt currency 'rmb' is not an ISO 4217 code"],
  ])('refuses the amount %s', async (amount, reason) => {
    const error = await parseError(camtDocument(statement(entry({ amount }))));
    expect(error).toMatchObject({ reason, location: 'line 9 (Stmt[1]/Ntry[1]/Amt)' });
  });

  it("reads an amount in the currency's own minor units: three decimals for KWD, none for JPY", async () => {
    const entries = await entriesOf(
      camtDocument(statement([entry({ amount: '<Amt Ccy="CNY">100.00</Amt>' }), entry({ amount: '<Amt Ccy="KWD">12.345</Amt>' }), entry({ amount: '<Amt Ccy="JPY">1500</Amt>' })].join('\n'))),
    );
    expect(entries.map((e) => [e.currency, e.amount])).toEqual([
      ['CNY', 10_000],
      ['KWD', 12_345],
      ['JPY', 1_500],
    ]);
  });

  it.each([
    ['<BookgDt><Dt>2026-02-30</Dt></BookgDt>', "BookgDt/Dt '2026-02-30' is not a date", 'BookgDt/Dt'],
    ['<BookgDt><Dt>02.03.2026</Dt></BookgDt>', "BookgDt/Dt '02.03.2026' is not a date", 'BookgDt/Dt'],
    ['<BookgDt><DtTm>2026-03-02 10:00</DtTm></BookgDt>', "BookgDt/DtTm '2026-03-02 10:00' is not a date-time", 'BookgDt/DtTm'],
    ['<BookgDt><DtTm>2026-03-02T24:00:00</DtTm></BookgDt>', "BookgDt/DtTm '2026-03-02T24:00:00' is not a date-time", 'BookgDt/DtTm'],
    ['<BookgDt><DtTm>2026-03-02T10:00:00+25:00</DtTm></BookgDt>', "BookgDt/DtTm '2026-03-02T10:00:00+25:00' is not a date-time", 'BookgDt/DtTm'],
    ['<BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><DtTm>2026-03-02T10:00:00+08:60</DtTm></ValDt>', "ValDt/DtTm '2026-03-02T10:00:00+08:60' is not a date-time", 'ValDt/DtTm'],
    ['<BookgDt><Dt>2026-03-02-99:00</Dt></BookgDt>', "BookgDt/Dt '2026-03-02-99:00' is not a date", 'BookgDt/Dt'],
    ['<BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-13-01</Dt></ValDt>', "ValDt/Dt '2026-13-01' is not a date", 'ValDt/Dt'],
  ])('refuses the date %s', async (bookingDate, reason, element) => {
    const error = await parseError(camtDocument(statement(entry({ bookingDate }))));
    expect(error).toMatchObject({ reason, location: `line 12 (Stmt[1]/Ntry[1]/${element})` });
  });

  it('accepts a date with a time zone, and dates a date-time by its day in China time (as written without an offset)', async () => {
    const booked = async (bookingDate: string) => (await entriesOf(camtDocument(statement(entry({ bookingDate })))))[0].bookingDate;
    expect(await booked('<BookgDt><Dt>2026-03-02+08:00</Dt></BookgDt>')).toBe('2026-03-02');
    // One instant, written two ways: the same China day. A bank writing UTC books at 16:30Z the next morning in Shanghai.
    expect(await booked('<BookgDt><DtTm>2026-03-31T16:30:00Z</DtTm></BookgDt>')).toBe('2026-04-01');
    expect(await booked('<BookgDt><DtTm>2026-04-01T00:30:00+08:00</DtTm></BookgDt>')).toBe('2026-04-01');
    expect(await booked('<BookgDt><DtTm>2026-03-02T15:59:59.123Z</DtTm></BookgDt>')).toBe('2026-03-02');
    expect(await booked('<BookgDt><DtTm>2026-03-02T10:00:00-05:00</DtTm></BookgDt>')).toBe('2026-03-02');
    expect(await booked('<BookgDt><DtTm>2026-03-02T23:30:00</DtTm></BookgDt>')).toBe('2026-03-02');
    expect(await booked('<BookgDt><DtTm>2016-12-31T23:59:60Z</DtTm></BookgDt>')).toBe('2017-01-01');
  });

  it('fingerprints a date-time by the day written, so an entry imported before China days keeps its fingerprint', async () => {
    // As the parser read these before: the written day, as a Dt. Bank-referenced, end-to-end and row forms alike.
    const identities = ['<AcctSvcrRef>BANK-77</AcctSvcrRef>', '<NtryDtls><TxDtls><Refs><EndToEndId>E2E-77</EndToEndId></Refs></TxDtls></NtryDtls>', ''];
    for (const identity of identities) {
      const [utc] = await entriesOf(camtDocument(statement(entry({
        bookingDate: '<BookgDt><DtTm>2026-03-31T16:30:00Z</DtTm></BookgDt><ValDt><DtTm>2026-03-31T17:00:00Z</DtTm></ValDt>',
        rest: identity,
      }))));
      const [before] = await entriesOf(camtDocument(statement(entry({
        bookingDate: '<BookgDt><Dt>2026-03-31</Dt></BookgDt><ValDt><Dt>2026-03-31</Dt></ValDt>',
        rest: identity,
      }))));
      expect([utc.bookingDate, utc.valueDate, before.bookingDate]).toEqual(['2026-04-01', '2026-04-01', '2026-03-31']);
      expect(entryFingerprint(utc)).toBe(entryFingerprint(before));
    }
    // A pending entry dated by its value date, or by the statement's creation, alike.
    const pending = (bookingDate: string) => camtDocument(statement(entry({ status: '<Sts><Cd>PDNG</Cd></Sts>', bookingDate })));
    const [byValue] = await entriesOf(pending('<ValDt><DtTm>2026-03-31T16:30:00Z</DtTm></ValDt>'));
    const [byValueBefore] = await entriesOf(pending('<ValDt><Dt>2026-03-31</Dt></ValDt>'));
    expect(byValue.bookingDate).toBe('2026-04-01');
    expect(entryFingerprint(byValue)).toBe(entryFingerprint(byValueBefore));
    const created = (createdAt: string) => pending('').replace(/<CreDtTm>[^<]*<\/CreDtTm>/g, `<CreDtTm>${createdAt}</CreDtTm>`);
    const [byCreation] = await entriesOf(created('2026-03-31T20:00:00Z'));
    const [byCreationBefore] = await entriesOf(created('2026-03-31T20:00:00'));
    expect([byCreation.bookingDate, byCreationBefore.bookingDate]).toEqual(['2026-04-01', '2026-03-31']);
    expect(entryFingerprint(byCreation)).toBe(entryFingerprint(byCreationBefore));
  });

  it('refuses a bad statement date-time, naming the statement element', async () => {
    const xml = camtDocument(statement(entry())).replace('<FrDtTm>2026-03-02T00:00:00+08:00', '<FrDtTm>yesterday');
    expect((await parseError(xml)).message).toBe("line 6 (Stmt[1]/FrToDt/FrDtTm): FrDtTm 'yesterday' is not a date-time");
  });

  it('refuses CdtDbtInd values other than CRDT and DBIT', async () => {
    const error = await parseError(camtDocument(statement(entry({ creditDebit: '<CdtDbtInd>C</CdtDbtInd>' }))));
    expect(error.reason).toBe("CdtDbtInd 'C' is neither CRDT nor DBIT");
  });

  it('ignores elements of other namespaces, such as supplementary data', async () => {
    const rest = '<NtryDtls><TxDtls><RmtInf xmlns="urn:example:other"><Ustrd>not ours</Ustrd></RmtInf></TxDtls></NtryDtls>';
    const [plain] = await entriesOf(camtDocument(statement(entry({ rest }))));
    expect(plain.remittance).toBe('');
  });

  it('ignores elements named after Object.prototype members', async () => {
    const rest = '<__proto__>x</__proto__><constructor>y</constructor><NtryDtls><toString/></NtryDtls>';
    const [plain] = await entriesOf(camtDocument(statement(entry({ rest }))));
    expect(plain).toMatchObject({ amount: 5_000_000, remittance: '' });
  });

  it('gives the same result whatever the chunk boundaries, even inside a multi-byte character', async () => {
    const rest = '<NtryDtls><TxDtls><RmtInf><Ustrd>拨款 SPR-2026-000123-1 再生障碍性贫血</Ustrd></RmtInf></TxDtls></NtryDtls>';
    const xml = camtDocument(statement(entry({ rest }) + entry()));
    const whole = await parseAll(xml);
    expect(await parseAll(xml, 1)).toEqual(whole);
    expect(await parseAll(xml, 7)).toEqual(whole);
    expect(whole[1]).toMatchObject({ entry: { remittance: '拨款 SPR-2026-000123-1 再生障碍性贫血' } });
  });

  it('streams: entries come out one by one while the file is still being read', async () => {
    const total = 30_000;
    let chunksRead = 0;
    async function* largeFile(): AsyncGenerator<Buffer> {
      const ntry = entry({ rest: '<NtryDtls><TxDtls><RmtInf><Ustrd>SPR-2026-000123-1</Ustrd></RmtInf></TxDtls></NtryDtls>' });
      const [head, tail] = camtDocument(statement('@@'), '13').split('@@');
      chunksRead++;
      yield Buffer.from(head);
      for (let written = 0; written < total; written += 1000) {
        chunksRead++;
        yield Buffer.from(ntry.repeat(1000));
      }
      yield Buffer.from(tail);
    }
    let entries = 0;
    let chunksReadAtFirstEntry = 0;
    let amountSum = 0;
    for await (const item of parseCamt053(largeFile())) {
      if (item.kind !== 'entry') continue;
      if (entries === 0) chunksReadAtFirstEntry = chunksRead;
      entries++;
      amountSum += item.entry.amount;
    }
    expect(entries).toBe(total);
    expect(amountSum).toBe(total * 5_000_000);
    expect(chunksReadAtFirstEntry).toBeLessThanOrEqual(2);
  }, 30_000);
});

