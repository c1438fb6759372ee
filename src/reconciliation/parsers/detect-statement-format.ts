import { CAMT053_NAMESPACE } from 'src/reconciliation/parsers/camt053.parser';
import { isCsvStatementHeader } from 'src/reconciliation/parsers/csv-statement.parser';

export type StatementFormat = 'camt.053' | 'csv';

const XML_PROLOG_ITEM = /^(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^[>]*(?:\[[\s\S]*?\])?\s*>|\s+)/;
const START_TAG = /^<(?:([A-Za-z_][\w.-]*):)?[A-Za-z_][\w.-]*((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Recognises a statement by its first bytes, never by file name or media type: a camt.053 document
 * (root element in a camt.053.001.02–13 namespace) or a CSV whose first line is our header in any
 * column order. Anything else, including a head cut before the root tag ends, is null.
 * A camt.053 root that is not a proper statement is still "camt.053", so the parser can say what is wrong.
 */
export function detectStatementFormat(head: Buffer): StatementFormat | null {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('<')) return rootNamespace(text)?.match(CAMT053_NAMESPACE) ? 'camt.053' : null;
  return isCsvStatementHeader(firstLine(text).split(',').map(unquote)) ? 'csv' : null;
}

/** Files a finance office may upload by mistake, by their first bytes, with what to do instead. */
const NOT_STATEMENTS: { magic: Buffer; is: string }[] = [
  { magic: Buffer.from('%PDF-'), is: 'a PDF document (a printed statement): upload the camt.053 XML or CSV export instead' },
  { magic: Buffer.from('PK\x03\x04', 'latin1'), is: 'a ZIP archive, as an Excel .xlsx workbook is: save the sheet as CSV, or unpack the archive and upload the statement in it' },
  { magic: Buffer.from('d0cf11e0a1b11ae1', 'hex'), is: 'an Excel .xls workbook (or another Office file): save the sheet as CSV' },
  { magic: Buffer.from('1f8b', 'hex'), is: 'a gzip-compressed file: unpack it and upload the statement in it' },
  { magic: Buffer.from('\x89PNG', 'latin1'), is: 'a PNG image' },
  { magic: Buffer.from('ffd8ff', 'hex'), is: 'a JPEG image' },
  { magic: Buffer.from('GIF8'), is: 'a GIF image' },
  { magic: Buffer.from('MZ'), is: 'a Windows program' },
  { magic: Buffer.from('7f454c46', 'hex'), is: 'a program' },
];

/** What a file that is no statement at all is (NOT_STATEMENTS), or null: a statement, or text the parsers will judge. */
export function recogniseNonStatement(head: Buffer): string | null {
  return NOT_STATEMENTS.find(({ magic }) => head.subarray(0, magic.length).equals(magic))?.is ?? null;
}

function rootNamespace(xml: string): string | undefined {
  let rest = xml;
  for (let skipped = XML_PROLOG_ITEM.exec(rest); skipped; skipped = XML_PROLOG_ITEM.exec(rest)) {
    rest = rest.slice(skipped[0].length);
  }
  const tag = START_TAG.exec(rest);
  if (!tag) return undefined;
  const [, prefix, attributes] = tag;
  const namespaceAttribute = prefix ? `xmlns:${prefix}` : 'xmlns';
  for (const [, name, doubleQuoted, singleQuoted] of attributes.matchAll(ATTRIBUTE)) {
    if (name === namespaceAttribute) return doubleQuoted ?? singleQuoted;
  }
  return undefined;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
}

function unquote(name: string): string {
  const trimmed = name.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
}
