import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { assertStillSignedIn } from 'src/auth/session-recheck';
import { malformedMultipart } from 'src/common/http/malformed-multipart';
import { TooManyFieldsException, TooManyFilesException } from 'src/common/http/multipart-problems';
import { discardRestOfBody, failAtSizeLimit } from 'src/common/http/multipart-file';
import { AuthUser } from 'src/common/auth/roles';
import { FieldError, InvalidInputException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { fundFinanceUsers, hospitalFinanceUsers } from 'src/disbursements/disbursement-notifications';
import { hospitalScope } from 'src/disbursements/disbursements.service';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { BankStatement } from 'src/reconciliation/bank-statement.entity';
import { StatementImportedDto } from 'src/reconciliation/dto/reconciliation.dto';
import { detectStatementFormat, recogniseNonStatement, StatementFormat } from 'src/reconciliation/parsers/detect-statement-format';
import { parseStatement, peekHead } from 'src/reconciliation/parsers/parse-statement';
import { StatementParseError } from 'src/reconciliation/parsers/statement-entry';
import {
  MalformedStatementException,
  StatementAlreadyImportedException,
  StatementImportInProgressException,
  StatementMultipartRequiredException,
  StatementTooLargeException,
  UnsupportedStatementFileException,
} from 'src/reconciliation/reconciliation.exceptions';
import { StatementAccounts, StatementLeftOut } from 'src/reconciliation/statement-account';
import { REPEATED_ENTRY_REASON } from 'src/reconciliation/entry-fingerprint';
import { awaitedAmountsSql, NO_REFERENCE_REASON, NOT_THIS_HOSPITALS_REASON } from 'src/reconciliation/matching';
import { toStatementSummary } from 'src/reconciliation/statement-view';
import { StatementImportRun } from 'src/reconciliation/statement-import-run';
import { StatementSettlement } from 'src/reconciliation/statement-settlement';
import { removeStaleSpools, SpooledStatement, spoolStatement } from 'src/reconciliation/statement-spool';

/** pg_advisory_xact_lock(class, hashtext(hospital id)): one import per hospital at a time. */
const IMPORT_LOCK_CLASS = 727_005;
/**
 * How long an upload waits for the hospital's import in progress. Most files take a second or two; a national
 * center's 200,000 entries take about a minute, and waiting that out would end in statement_timeout (30 s) as a 500.
 */
const IMPORT_LOCK_WAIT_MS = 5_000;
/** What the 409 suggests: a large import is well on its way by then. */
const IMPORT_RETRY_AFTER_SECONDS = 30;
/** Fields a statement upload may carry besides its file (only hospitalId is accepted; a stray one is named, up to this many). */
const MAX_STATEMENT_FIELDS = 2;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * POST /reconciliation/statements. The multipart file is first copied to a private spool file (hashed on the way;
 * statement-spool.ts), so the transaction never waits on the client; then it streams from there through the parser
 * into batched INSERTs, all in ONE transaction: a parse error on the last line, a file past the limits or a file already
 * imported rolls everything back, so nothing is ever half-imported. Imports of one hospital are serialized
 * (advisory lock); the tranches they reconcile are locked only at the end, application first, and settled in a
 * few set-based statements (StatementSettlement).
 */
@Injectable()
export class StatementImportService implements OnModuleInit {
  private readonly logger = new Logger(StatementImportService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
  ) {}

  /** In the background: start-up does not wait for it. */
  onModuleInit(): void {
    void removeStaleSpools(this.config.env.STATEMENT_SPOOL_DIR)
      .then((removed) => removed && this.logger.warn(`removed ${removed} statement upload(s) a stopped process left in the spool directory`))
      .catch((error: Error) => this.logger.warn(`could not sweep the statement spool directory: ${error.message}`));
  }

  /**
   * Reads the whole body first, spooling the file to disk, so the form's fields may come in any order (a client
   * that sends hospitalId after the file is as right as one that sends it before); the import runs from the spool.
   */
  async importUpload(user: AuthUser, request: FastifyRequest): Promise<StatementImportedDto> {
    if (!request.isMultipart()) throw new StatementMultipartRequiredException();
    const { STATEMENT_MAX_BYTES, STATEMENT_SPOOL_DIR } = this.config.env;
    let hospitalField: string | undefined;
    const errors: FieldError[] = [];
    let upload: { spooled: SpooledStatement; fileName: string } | undefined;
    try {
      try {
        let fields = 0;
        for await (const part of request.parts({ limits: { fileSize: STATEMENT_MAX_BYTES, files: 1, fields: MAX_STATEMENT_FIELDS + 1 } })) {
          if (part.type === 'field') {
            if (++fields > MAX_STATEMENT_FIELDS) throw new TooManyFieldsException(MAX_STATEMENT_FIELDS, part.fieldname, '"hospitalId" is');
            if (part.fieldname === 'hospitalId' && hospitalField !== undefined) errors.push({ field: 'hospitalId', message: 'is given more than once' });
            else if (part.fieldname === 'hospitalId') hospitalField = String(part.value).trim().toLowerCase();
            else errors.push({ field: part.fieldname, message: 'is not an accepted field' });
            continue;
          }
          if (part.fieldname !== 'file') {
            part.file.resume();
            errors.push({ field: part.fieldname, message: 'is not an accepted field' });
            continue;
          }
          failAtSizeLimit(part.file, () => this.tooLarge());
          // Read at once: a body cut short shows as an error on the part's stream (spoolStatement).
          upload = { spooled: await spoolStatement(part.file, STATEMENT_SPOOL_DIR), fileName: part.filename };
        }
      } catch (error) {
        discardRestOfBody(request);
        const code = (error as { code?: string }).code;
        if (code === 'FST_REQ_FILE_TOO_LARGE') throw this.tooLarge();
        if (code === 'FST_FILES_LIMIT') throw new TooManyFilesException('statement');
        throw malformedMultipart(error) ?? error;
      }
      if (!upload) throw new InvalidInputException([...errors, { field: 'file', message: 'is required' }]);
      if (errors.length) throw new InvalidInputException(errors);
      return await this.importFile(user, hospitalField, upload.fileName, upload.spooled);
    } finally {
      await upload?.spooled.remove();
    }
  }

  /** hospital_finance: its own (another → 403). Others must name one. */
  private async hospitalFor(user: AuthUser, field: string | undefined): Promise<string> {
    if (field !== undefined && !UUID.test(field)) throw new InvalidInputException([{ field: 'hospitalId', message: 'must be a UUID' }]);
    const hospitalId = hospitalScope(user, field || undefined);
    if (!hospitalId) throw new InvalidInputException([{ field: 'hospitalId', message: 'is required for fund finance and admins' }]);
    if (!(await this.dataSource.getRepository(Hospital).existsBy({ id: hospitalId }))) {
      throw new InvalidInputException([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
    }
    return hospitalId;
  }

  private async importFile(user: AuthUser, hospitalField: string | undefined, fileName: string, spooled: SpooledStatement): Promise<StatementImportedDto> {
    const hospitalId = await this.hospitalFor(user, hospitalField);
    // Refused before any transaction; checked again under the hospital's lock (a concurrent upload of the same file).
    await this.refuseRepeat(this.dataSource.manager, hospitalId, spooled.sha256);
    return await this.dataSource.transaction((tx) => this.importSpooled(tx, user, hospitalId, fileName, spooled));
  }

  /** The hospital's import lock, or 409 import-in-progress once IMPORT_LOCK_WAIT_MS have passed without it. */
  private async takeImportTurn(tx: EntityManager, hospitalId: string): Promise<void> {
    await tx.query(`SET LOCAL lock_timeout = ${IMPORT_LOCK_WAIT_MS}`);
    try {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IMPORT_LOCK_CLASS, hospitalId]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') throw new StatementImportInProgressException(IMPORT_RETRY_AFTER_SECONDS);
      throw error;
    }
    // The import's own row locks wait as every other request's do.
    await tx.query('SET LOCAL lock_timeout TO DEFAULT');
  }

  private async refuseRepeat(manager: EntityManager, hospitalId: string, sha256: string): Promise<void> {
    const [earlier] = (await manager.query(
      // What the earlier import left out (statements of accounts not the hospital's then) is in its audit event only.
      `SELECT s.id, (SELECT e.summary -> 'statementsLeftOut' FROM audit_events e
                      WHERE e.object_type = 'bank_statement' AND e.object_id = s.id::text AND e.action = 'reconciliation.statement_imported') AS left_out
         FROM bank_statements s WHERE s.hospital_id = $1 AND s.sha256 = $2`,
      [hospitalId, sha256],
    )) as { id: string; left_out: StatementLeftOut[] | null }[];
    if (earlier) throw new StatementAlreadyImportedException(earlier.id, earlier.left_out ?? []);
  }

  /** The import proper, in ONE transaction, from the spooled copy. */
  private async importSpooled(
    tx: EntityManager,
    user: AuthUser,
    hospitalId: string,
    fileName: string,
    spooled: SpooledStatement,
  ): Promise<StatementImportedDto> {
    const { sha256, size } = spooled;
    const notStatement = recogniseNonStatement(await firstBytes(spooled));
    if (notStatement) throw new UnsupportedStatementFileException(notStatement);
    const statementId = randomUUID();
    await this.takeImportTurn(tx, hospitalId);
    // Once the body is in and the hospital's turn taken (up to 5 s): the session the upload was sent under still holds.
    await assertStillSignedIn(tx, user);
    await this.refuseRepeat(tx, hospitalId, sha256);
    const { head, source } = await peekHead(spooled.read());
    const format: StatementFormat = detectStatementFormat(head) ?? fallbackFormat(head);
    await tx.query(`INSERT INTO bank_statements (id, hospital_id, format, file_name, imported_by) VALUES ($1, $2, $3, $4, $5)`, [
      statementId,
      hospitalId,
      format,
      fileNameOf(fileName),
      user.id,
    ]);
    const run = new StatementImportRun(tx, statementId, hospitalId, this.config.env.STATEMENT_MAX_ENTRIES, (max) =>
      this.tooLarge(`The statement holds more than ${max} entries.`, { maxEntries: max }),
    );
    const accounts = new StatementAccounts(tx, hospitalId);
    try {
      let ours = true;
      for await (const item of parseStatement(source, format)) {
        if (item.kind === 'header') {
          ours = await accounts.belongs(item.header.accountIban ?? item.header.accountOther);
          if (ours) run.header(item.header);
        } else if (ours) await run.add(item.entry);
        else accounts.leaveOut();
      }
      await run.flush();
      accounts.refuseIfNotTheHospitals();
    } catch (error) {
      await run.abandon();
      if (error instanceof StatementParseError) throw new MalformedStatementException(error);
      throw error;
    }

    const settlement = run.matched > 0 ? new StatementSettlement(tx, statementId, hospitalId, user) : null;
    await settlement?.settle();
    const { statement, transfersAgain, moneyBack } = await this.finish(tx, statementId, { sha256, size, statementIds: run.statementIds, account: run.account });
    const unnamed = statement.unmatched > 0 ? await unmatchedCredits(tx, statement) : { all: 0, likePayments: 0, otherHospitals: 0 };
    const exceptions = { mismatched: statement.mismatched, unmatched: statement.unmatched - unnamed.all, unnamedLikePayments: unnamed.likePayments };
    if (exceptions.mismatched + exceptions.unmatched + exceptions.unnamedLikePayments + transfersAgain > 0) {
      const counts = { ...exceptions, unnamed: unnamed.all - unnamed.likePayments, duplicates: transfersAgain, moneyBack, otherHospitals: unnamed.otherHospitals };
      await this.emailExceptions(tx, statement, counts);
    }

    const imported = {
      actor: user,
      action: 'reconciliation.statement_imported',
      objectType: 'bank_statement',
      objectId: statementId,
      summary: {
        hospitalId,
        format,
        sha256,
        entries: statement.entries,
        matched: statement.matched,
        unmatched: statement.unmatched,
        mismatched: statement.mismatched,
        duplicates: statement.duplicates,
        ignored: statement.ignored,
        ...(accounts.leftOut.length ? { statementsLeftOut: accounts.leftOut } : {}),
      },
    };
    if (settlement) {
      await settlement.completeSettled();
      // Last: chaining takes the audit chain's lock, held until COMMIT.
      await this.audit.recordMany(tx, [imported, ...settlement.auditParts()]);
    } else {
      await this.audit.record(tx, imported);
    }
    return { ...toStatementSummary(statement), statementsLeftOut: accounts.leftOut };
  }

  private async finish(
    tx: EntityManager,
    id: string,
    file: { sha256: string; size: number; statementIds: string[]; account: string | null },
  ): Promise<{ statement: BankStatement; transfersAgain: number; moneyBack: number }> {
    let transfersAgain: number;
    let moneyBack: number;
    try {
      const [[counted]] = (await tx.query(
        `UPDATE bank_statements s SET sha256 = $2, size_bytes = $3, statement_ids = $4, account = $5,
                entries = c.entries, matched = c.matched, unmatched = c.unmatched, mismatched = c.mismatched, duplicates = c.duplicates, ignored = c.ignored
           FROM (SELECT count(*)::int AS entries,
                        count(*) FILTER (WHERE status = 'matched')::int AS matched,
                        count(*) FILTER (WHERE status = 'unmatched')::int AS unmatched,
                        count(*) FILTER (WHERE status = 'mismatched')::int AS mismatched,
                        count(*) FILTER (WHERE status = 'duplicate')::int AS duplicates,
                        count(*) FILTER (WHERE status = 'ignored')::int AS ignored,
                        count(*) FILTER (WHERE status = 'duplicate' AND reason IS DISTINCT FROM $6)::int AS transfers_again,
                        count(*) FILTER (WHERE status = 'mismatched' AND (credit_debit = 'DBIT' OR reversal))::int AS money_back
                   FROM statement_entries WHERE statement_id = $1) c
          WHERE s.id = $1
          RETURNING c.transfers_again, c.money_back`,
        [id, file.sha256, file.size, file.statementIds, file.account, REPEATED_ENTRY_REASON],
      )) as [{ transfers_again: number; money_back: number }[], number];
      transfersAgain = counted.transfers_again;
      moneyBack = counted.money_back;
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === 'bank_statements_content_key') throw new StatementAlreadyImportedException('');
      throw error;
    }
    return { statement: await tx.getRepository(BankStatement).findOneByOrFail({ id }), transfersAgain, moneyBack };
  }

  /**
   * reconciliation-exceptions to the hospital's finance office when entries need a person: mismatched; unmatched credits
   * naming a Sprout reference; credits naming none but of the amount of a payment not yet seen arriving (its reference
   * may have been lost on the way); and duplicates that are transfers of their own (a second payment of a tranche,
   * money the hospital holds for nothing), not the repeats of bank entries already imported that every month's
   * statement brings (as the report counts). The other credits naming no Sprout reference are the bulk of a hospital's
   * account, its patients' own payments: an email for them at every import would teach everyone to ignore it.
   */
  private async emailExceptions(tx: EntityManager, s: BankStatement, counts: ExceptionCounts): Promise<void> {
    const hospital = await tx.getRepository(Hospital).findOneByOrFail({ id: s.hospitalId });
    // Money the bank took back from the fund's payments, and money meant for another hospital (perhaps paid to this
    // one's account), are the fund's books too: fund finance hears of them as well.
    const fundsToo = counts.moneyBack > 0 || counts.otherHospitals > 0;
    const recipients = [...(await hospitalFinanceUsers(tx, s.hospitalId)), ...(fundsToo ? await fundFinanceUsers(tx) : [])];
    for (const user of recipients) {
      await this.outbox.enqueue(tx, {
        event: 'reconciliation.exceptions',
        template: 'reconciliation-exceptions',
        to: { email: user.email, userId: user.id, locale: user.locale },
        context: {
          fullName: user.fullName,
          hospitalName: hospital.name,
          hospitalId: hospital.id,
          statementId: s.id,
          ...(s.fileName ? { fileName: s.fileName } : {}),
          ...counts,
          statementUrl: this.config.publicUrl(`/reconciliation/statements/${s.id}`),
        },
      });
    }
  }

  private tooLarge(detail?: string, extra?: Record<string, number>): StatementTooLargeException {
    const max = this.config.env.STATEMENT_MAX_BYTES;
    return new StatementTooLargeException(detail ?? `A statement may be at most ${max} bytes.`, extra ?? { maxBytes: max });
  }
}

type ExceptionCounts = { mismatched: number; unmatched: number; unnamedLikePayments: number; unnamed: number; duplicates: number; moneyBack: number; otherHospitals: number };

/**
 * Of the statement's unmatched credits, in one pass over them: those naming no Sprout reference, and those of them
 * whose amount is that of a tranche of the hospital paid and not yet reconciled, or sent to the bank in a payment file
 * and not yet recorded as paid (one hash of those amounts); and those naming a tranche the fund paid to another
 * hospital (and none of this one): money meant for that hospital may have been paid to this one's account, which only
 * the fund can put right.
 */
async function unmatchedCredits(tx: EntityManager, s: BankStatement): Promise<{ all: number; likePayments: number; otherHospitals: number }> {
  const [row] = (await tx.query(
    `SELECT count(*) FILTER (WHERE e.reason = $3)::int AS unnamed,
            count(*) FILTER (WHERE e.reason = $3 AND e.amount IN (${awaitedAmountsSql('$2')}))::int AS like_payments,
            count(*) FILTER (WHERE e.reason = $4 AND e.credit_debit = 'CRDT'
                               AND EXISTS (SELECT 1 FROM disbursements d WHERE d.reference = e.reference AND d.hospital_id <> $2 AND d.status IN ('paid', 'reconciled'))
                            )::int AS other_hospitals
       FROM statement_entries e WHERE e.statement_id = $1 AND e.status = 'unmatched' AND e.reason IN ($3, $4)`,
    [s.id, s.hospitalId, NO_REFERENCE_REASON, NOT_THIS_HOSPITALS_REASON],
  )) as { unnamed: number; like_payments: number; other_hospitals: number }[];
  return { all: row.unnamed, likePayments: row.like_payments, otherHospitals: row.other_hospitals };
}

/** The file's first chunk (all of a small file), its stream closed after it. */
async function firstBytes(spooled: SpooledStatement): Promise<Buffer> {
  for await (const chunk of spooled.read()) return chunk;
  return Buffer.alloc(0);
}

/**
 * Not recognised by its head: let the parser that fits best say precisely what is wrong (an XML file with a foreign
 * root or namespace → the camt.053 parser; anything else → the CSV parser, which names the header it expected).
 */
function fallbackFormat(head: Buffer): StatementFormat {
  return head.toString('utf8').replace(/^\uFEFF/, '').trimStart().startsWith('<') ? 'camt.053' : 'csv';
}

function fileNameOf(name: string | undefined): string | null {
  // eslint-disable-next-line no-control-regex
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean || null;
}
