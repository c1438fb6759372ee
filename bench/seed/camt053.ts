/**
 * A bank's end-of-day camt.053.001.08 statement with one credit entry per paid tranche, each carrying the tranche
 * reference in the end-to-end id and the remittance text, as a hospital's bank would report a Sprout transfer.
 * Yields the document in chunks so a 200,000-entry file never has to be one string.
 */
export type CamtEntry = { reference: string; amount: number; bookingDate: string; bankReference: string };

export function* camt053Chunks(input: { statementId: string; account: string; createdAt: string; entries: Iterable<CamtEntry> }, entriesPerChunk = 500): Generator<string> {
  yield [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
    '<BkToCstmrStmt>',
    `<GrpHdr><MsgId>${input.statementId}-MSG</MsgId><CreDtTm>${input.createdAt}</CreDtTm></GrpHdr>`,
    `<Stmt><Id>${input.statementId}</Id><CreDtTm>${input.createdAt}</CreDtTm>`,
    // The hospital's own account number, as a Chinese bank names a domestic account (Sprout refuses another's).
    `<Acct><Id><Othr><Id>${input.account}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>`,
    '',
  ].join('\n');
  let chunk: string[] = [];
  for (const entry of input.entries) {
    chunk.push(camtEntry(entry));
    if (chunk.length >= entriesPerChunk) {
      yield chunk.join('');
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join('');
  yield '</Stmt>\n</BkToCstmrStmt>\n</Document>\n';
}

export function camtEntry(entry: CamtEntry): string {
  return (
    '<Ntry>' +
    `<Amt Ccy="CNY">${yuan(entry.amount)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
    `<BookgDt><Dt>${entry.bookingDate}</Dt></BookgDt><ValDt><Dt>${entry.bookingDate}</Dt></ValDt>` +
    `<AcctSvcrRef>${entry.bankReference}</AcctSvcrRef>` +
    '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>' +
    `<NtryDtls><TxDtls><Refs><EndToEndId>${entry.reference}</EndToEndId></Refs>` +
    '<RltdPties><Dbtr><Pty><Nm>上海儿童医学中心 AA 救助基金</Nm></Pty></Dbtr></RltdPties>' +
    `<RmtInf><Ustrd>Sprout grant tranche ${entry.reference}</Ustrd></RmtInf></TxDtls></NtryDtls>` +
    '</Ntry>\n'
  );
}

/** Fen as a yuan decimal with two places, integer arithmetic only. */
export function yuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError(`not an amount of fen: ${fen}`);
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}
