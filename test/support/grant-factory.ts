import { randomUUID } from 'node:crypto';
import { TreatmentPlan } from 'src/assessment/means-policy';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { createSubmittedApplication, Family } from 'test/support/application-factory';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { TestApp } from 'test/support/test-app';

const API = '/api/v1';

export type GrantWorld = {
  admin: SignedIn;
  finance: SignedIn;
  reviewer: SignedIn;
  hospital: { id: string; code: string };
  hospitalFinance: SignedIn;
  family: Family;
};

/** Users and a hospital for the disbursement and reconciliation tests; the fund receives `funds` fen. */
export async function grantWorld(t: TestApp, funds = 1_000_000_000): Promise<GrantWorld> {
  const admin = await signedInUser(t, 'admin');
  const finance = await signedInUser(t, 'fund_finance');
  const reviewer = await signedInUser(t, 'reviewer');
  const hospital = await createHospital(t, admin, undefined, TEST_HOSPITAL_ACCOUNT);
  const hospitalFinance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
  const family = await signedInUser(t, 'applicant');
  if (funds > 0) await contribute(t, finance, funds);
  return { admin, finance, reviewer, hospital, hospitalFinance, family };
}

export async function contribute(t: TestApp, finance: SignedIn, amount: number): Promise<void> {
  await t.http
    .post(`${API}/fund/contributions`)
    .set(finance.auth)
    .send({ amount, donorName: '上海某慈善基金会', receivedOn: '2026-01-15', reference: `ICBC-${randomUUID().slice(0, 12)}` })
    .expect(201);
}

export type Grant = { id: string; reference: string; amount: number };

/**
 * A submitted application of `family` at `hospitalId`, approved for `amount` fen through the review endpoints
 * (a second reviewer confirms when the amount needs four eyes): the fund commits the amount and the tranches are scheduled.
 */
export async function approvedGrant(
  t: TestApp,
  world: Pick<GrantWorld, 'family' | 'reviewer'> & { hospital: { id: string } },
  options: { amount?: number; treatmentPlan?: TreatmentPlan } = {},
): Promise<Grant> {
  const amount = options.amount ?? 2_000_000;
  const treatmentPlan = options.treatmentPlan ?? 'hsct';
  const app = await createSubmittedApplication(t, world.family, world.hospital.id, { medical: { treatmentPlan } });
  await t.http.post(`${API}/applications/${app.id}/start-review`).set(world.reviewer.auth).send({}).expect(200);
  let approve = await t.http.post(`${API}/applications/${app.id}/approve`).set(world.reviewer.auth).send({ amount });
  if (approve.status === 200 && approve.body.status === 'awaiting_second_approval') {
    const second = await signedInUser(t, 'reviewer');
    approve = await t.http.post(`${API}/applications/${app.id}/approve`).set(second.auth).send({ amount });
  }
  if (approve.status !== 200 || approve.body.status !== 'approved') throw new Error(`approving failed: ${approve.status} ${JSON.stringify(approve.body)}`);
  return { id: app.id, reference: app.reference, amount };
}

/** The grant's tranches as fund finance sees them (GET /applications/:id/disbursements). */
export async function tranchesOf(t: TestApp, world: Pick<GrantWorld, 'finance'>, grant: Grant): Promise<Record<string, any>[]> {
  return (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(world.finance.auth).expect(200)).body.items;
}

/** Pays one tranche today with a fresh bank reference; expects 200. */
export function payTranche(t: TestApp, world: Pick<GrantWorld, 'finance'>, id: string) {
  return t.http.post(`${API}/disbursements/${id}/pay`).set(world.finance.auth).send({ paidOn: todayIn(FUND_TIME_ZONE), bankReference: `TRF-${randomUUID().slice(0, 6)}` }).expect(200);
}

export type StatementLine = {
  /** Yuan as the bank writes it, e.g. '30000.00'; CSV debits start with '-'. */
  amount: string;
  currency?: string;
  creditDebit?: 'CRDT' | 'DBIT';
  /** camt.053 RvslInd: with DBIT, the bank taking a credit back. */
  reversal?: boolean;
  /** camt.053: null leaves out BookgDt and ValDt (a pending entry may have neither). */
  bookingDate?: string | null;
  remittance?: string;
  accountServicerReference?: string;
  endToEndId?: string;
  status?: string;
  counterparty?: string;
  /** camt.053 only: a batch entry, one TxDtls per transfer with its own amount (yuan) and remittance; `amount` is their total. */
  transfers?: { amount: string; remittance: string }[];
};

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The account of grantWorld's hospital, which camt053() names by default. */
export const TEST_HOSPITAL_ACCOUNT = '6222021001234567890';

/** A camt.053 statement of `version` (001.02–001.13) holding `entries` for one account. */
export function camt053(entries: StatementLine[], options: { version?: string; statementId?: string; account?: string } = {}): Buffer {
  const version = options.version ?? '001.08';
  const minor = Number(version.split('.')[1]);
  const status = (s: string) => (minor >= 8 ? `<Sts><Cd>${s}</Cd></Sts>` : `<Sts>${s}</Sts>`);
  const ntry = entries
    .map(
      (e) => `
      <Ntry>
        <Amt Ccy="${e.currency ?? 'CNY'}">${e.amount}</Amt>
        <CdtDbtInd>${e.creditDebit ?? 'CRDT'}</CdtDbtInd>
        ${e.reversal ? '<RvslInd>true</RvslInd>' : ''}
        ${status(e.status ?? 'BOOK')}
        ${e.bookingDate === null ? '' : `<BookgDt><Dt>${e.bookingDate ?? '2026-09-15'}</Dt></BookgDt>
        <ValDt><Dt>${e.bookingDate ?? '2026-09-15'}</Dt></ValDt>`}
        ${e.accountServicerReference ? `<AcctSvcrRef>${xmlEscape(e.accountServicerReference)}</AcctSvcrRef>` : ''}
        <BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd>
        ${e.transfers ? batchDetails(e.transfers, minor) : `<NtryDtls><TxDtls>
          ${e.endToEndId ? `<Refs><EndToEndId>${xmlEscape(e.endToEndId)}</EndToEndId></Refs>` : ''}
          ${e.counterparty ? `<RltdPties><Dbtr><Nm>${xmlEscape(e.counterparty)}</Nm></Dbtr></RltdPties>` : ''}
          ${e.remittance ? `<RmtInf><Ustrd>${xmlEscape(e.remittance)}</Ustrd></RmtInf>` : ''}
        </TxDtls></NtryDtls>`}
      </Ntry>`,
    )
    .join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.${version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-${randomUUID().slice(0, 8)}</MsgId><CreDtTm>2026-09-16T08:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${options.statementId ?? `STMT-${randomUUID().slice(0, 8)}`}</Id>
      <CreDtTm>2026-09-16T08:00:00+08:00</CreDtTm>
      <Acct><Id><Othr><Id>${xmlEscape(options.account ?? TEST_HOSPITAL_ACCOUNT)}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>${ntry}
    </Stmt>
  </BkToCstmrStmt>
</Document>
`);
}

/** A batch entry's transfers: TxDtls/Amt from camt.053.001.04 on, AmtDtls/TxAmt/Amt before. */
function batchDetails(transfers: { amount: string; remittance: string }[], minor: number): string {
  const amountOf = (yuan: string) => (minor >= 4 ? `<Amt Ccy="CNY">${yuan}</Amt>` : `<AmtDtls><TxAmt><Amt Ccy="CNY">${yuan}</Amt></TxAmt></AmtDtls>`);
  const details = transfers.map((t) => `<TxDtls>${amountOf(t.amount)}<RmtInf><Ustrd>${xmlEscape(t.remittance)}</Ustrd></RmtInf></TxDtls>`);
  return `<NtryDtls><Btch><NbOfTxs>${transfers.length}</NbOfTxs></Btch>${details.join('')}</NtryDtls>`;
}

/** A statement in API.md's CSV format: date,amount,currency,reference,counterparty,description. */
export function csvStatement(entries: StatementLine[]): Buffer {
  const cell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = entries.map((e) =>
    [e.bookingDate ?? '2026-09-15', e.amount, e.currency ?? 'CNY', e.accountServicerReference ?? '', e.counterparty ?? 'Sprout Fund', e.remittance ?? ''].map(cell).join(','),
  );
  return Buffer.from(['date,amount,currency,reference,counterparty,description', ...lines].join('\n') + '\n');
}
