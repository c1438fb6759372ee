import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { csvCell, formatYuan, paymentBatchCsv } from 'src/disbursements/payment-batch-csv';

describe('formatYuan', () => {
  it.each([
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [100, '1.00'],
    [123456, '1234.56'],
    [5_000_000, '50000.00'],
    [1_000_000_000_000, '10000000000.00'],
    [-5, '-0.05'],
    [Number.MAX_SAFE_INTEGER, '90071992547409.91'],
  ])('%p fen → %s', (fen, text) => expect(formatYuan(fen)).toBe(text));

  it('refuses what is not a whole number of fen', () => {
    expect(() => formatYuan(1.5)).toThrow(RangeError);
    expect(() => formatYuan(Number.NaN)).toThrow(RangeError);
  });

  it('reads back to the same fen for any amount (string arithmetic, no float)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (fen) => {
        const [yuan, cents] = formatYuan(fen).split('.');
        expect(cents).toHaveLength(2);
        expect(BigInt(yuan) * 100n + BigInt(cents)).toBe(BigInt(fen));
      }),
    );
  });
});

describe('csvCell', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+86 21 1234', "'+86 21 1234"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['a,b', '"a,b"'],
    ['line\nbreak', '"line\nbreak"'],
    ['上海儿童医学中心', '上海儿童医学中心'],
    ['6222021001234567890', '6222021001234567890'],
  ])('%j → %j', (value, cell) => expect(csvCell(value)).toBe(cell));
});

describe('paymentBatchCsv', () => {
  it('writes a header and one line per tranche, amounts in yuan with two decimals', () => {
    const csv = paymentBatchCsv([
      { reference: 'SPR-2026-000123-1', hospital: '上海儿童医学中心', bankName: 'ICBC', accountName: 'SCMC, Finance', accountNumber: '6222021001234567890', amount: 5_000_001 },
      { reference: 'SPR-2026-000124-2', hospital: '=cmd|calc', bankName: 'BOC', accountName: 'X', accountNumber: '001', amount: 7 },
    ]);
    expect(csv).toBe(
      'reference,hospital,bank_name,account_name,account_number,amount,currency\r\n' +
        'SPR-2026-000123-1,上海儿童医学中心,ICBC,"SCMC, Finance",6222021001234567890,50000.01,CNY\r\n' +
        "SPR-2026-000124-2,'=cmd|calc,BOC,X,001,0.07,CNY\r\n",
    );
  });

  it('round-trips any text through a CSV reader, no cell starting a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 5, maxLength: 5 }), fc.integer({ min: 1, max: 1_000_000_000_000 }), (texts, amount) => {
        const [reference, hospital, bankName, accountName, accountNumber] = texts;
        const rows = parse(paymentBatchCsv([{ reference, hospital, bankName, accountName, accountNumber, amount }]), { relax_quotes: false }) as string[][];
        expect(rows).toHaveLength(2);
        const cells = rows[1];
        cells.slice(0, 5).forEach((cell, i) => {
          expect(cell).toBe(/^[=+\-@\t\r\n]/.test(texts[i]) ? `'${texts[i]}` : texts[i]);
          expect(cell).not.toMatch(/^[=+\-@\t\r\n]/);
        });
        expect(cells[5]).toBe(formatYuan(amount));
      }),
    );
  });
});
