import { readFileSync } from 'fs';
import path from 'path';
import { detectStatementFormat } from 'src/reconciliation/parsers/detect-statement-format';
import { CAMT053_FIXTURES } from 'test/fixtures/camt053';

const detect = (text: string) => detectStatementFormat(Buffer.from(text, 'utf8'));
const camtRoot = (version: string) => `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}"><BkToCstmrStmt>`;

describe('detectStatementFormat', () => {
  it.each(['camt053.v2.minimal.xml', 'camt053.v4.xml'])('recognises the real bank file %s', (file) => {
    expect(detectStatementFormat(readFileSync(path.join(CAMT053_FIXTURES, file)).subarray(0, 4096))).toBe('camt.053');
  });

  it.each(['02', '08', '13'])('recognises camt.053.001.%s', (version) => {
    expect(detect(camtRoot(version))).toBe('camt.053');
  });

  it.each(['01', '14'])('does not recognise camt.053.001.%s', (version) => {
    expect(detect(camtRoot(version))).toBeNull();
  });

  it('looks past a BOM, whitespace, the XML declaration, comments and a DOCTYPE', () => {
    const xml = `\uFEFF \n<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported <by> bank -->\n<!DOCTYPE Document>\n${camtRoot('08')}`;
    expect(detect(xml)).toBe('camt.053');
  });

  it('follows a namespace prefix on the root element', () => {
    const xml = `<c:Document xmlns="urn:other" xmlns:c='urn:iso:std:iso:20022:tech:xsd:camt.053.001.04'>`;
    expect(detect(xml)).toBe('camt.053');
    expect(detect(`<c:Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04" xmlns:c="urn:other">`)).toBeNull();
  });

  it.each([
    ['camt.052', '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">'],
    ['pain.001', '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'],
    ['no namespace', '<Document>'],
    ['namespace on a child only', '<Document><BkToCstmrStmt xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'],
    ['a head cut inside the root tag', '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.0'],
    ['a head cut inside a comment', '<!-- a very long comment'],
    ['HTML', '<!doctype html><html><body>'],
  ])('does not recognise %s', (_name, text) => {
    expect(detect(text)).toBeNull();
  });

  it.each([
    'date,amount,currency,reference,counterparty,description\n2026-03-02,1.00,CNY,,,\n',
    '\uFEFFdescription,counterparty,reference,currency,amount,date\r\n',
    '"date","amount","currency","reference","counterparty","description"\n',
    'Date, Amount, Currency, Reference, Counterparty, Description',
  ])('recognises the CSV header %p', (text) => {
    expect(detect(text)).toBe('csv');
  });

  it.each([
    'date,amount,currency,reference,counterparty\n',
    'date,amount,currency,reference,counterparty,description,fee\n',
    'date;amount;currency;reference;counterparty;description\n',
    '2026-03-02,1.00,CNY,,,\n',
    '',
    '%PDF-1.7',
  ])('does not recognise %p', (text) => {
    expect(detect(text)).toBeNull();
  });

  it('does not recognise UTF-16 text', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('date,amount,currency,reference,counterparty,description\n', 'utf16le')]);
    expect(detectStatementFormat(utf16)).toBeNull();
  });
});
