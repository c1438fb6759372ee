import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { decodeCursor, Page, PageQueryDto, toPage } from 'src/common/pagination/pagination';
import { ConflictException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { CreateHospitalDto, HospitalDto, HospitalViewDto, UpdatedHospitalDto, UpdateHospitalDto } from 'src/hospitals/dto/hospital.dto';
import { Hospital } from 'src/hospitals/hospital.entity';
import { noticeBankAccountChanged } from 'src/hospitals/bank-account-change-notice';
import { noticePayeesOutdated, tranchesLeftBehind } from 'src/hospitals/payees-outdated-notice';
import { OutboxService } from 'src/notifications/outbox.service';
import { NORMALIZED } from 'src/reconciliation/statement-account';

@Injectable()
export class HospitalsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
  ) {}

  async create(dto: CreateHospitalDto, actor: AuthUser): Promise<HospitalDto> {
    return this.uniqueCode(() =>
      this.dataSource.transaction(async (tx) => {
        await assertNoTwin(tx, null, dto.name, dto.bankAccount.accountNumber);
        const hospital = await tx.save(Hospital, tx.create(Hospital, { name: dto.name, code: dto.code, ...bankColumns(dto.bankAccount) }));
        await this.audit.record(tx, {
          actor,
          action: 'hospital.created',
          objectType: 'hospital',
          objectId: hospital.id,
          summary: { code: hospital.code, name: hospital.name, bankAccount: dto.bankAccount },
        });
        return HospitalDto.from(hospital);
      }),
    );
  }

  /**
   * Scheduled tranches keep the account they were scheduled with (POST /disbursements/:id/repoint moves one): the
   * answer, and the audit event of an account change, count those now paying into another account than the hospital's.
   */
  async update(id: string, dto: UpdateHospitalDto, actor: AuthUser): Promise<UpdatedHospitalDto> {
    return this.uniqueCode(() =>
      this.dataSource.transaction(async (tx) => {
        const hospital = await tx.findOne(Hospital, { where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!hospital) throw new ResourceNotFoundException('Hospital');
        const before = HospitalDto.from(hospital);
        Object.assign(hospital, { name: dto.name ?? hospital.name, code: dto.code ?? hospital.code }, dto.bankAccount ? bankColumns(dto.bankAccount) : {});
        const after = HospitalDto.from(hospital);
        // What changes only: twins made before this rule keep their other edits.
        const renamed = after.name !== before.name ? after.name : null;
        const accountMoved = after.bankAccount.accountNumber !== before.bankAccount.accountNumber ? after.bankAccount.accountNumber : null;
        if (renamed !== null || accountMoved !== null) await assertNoTwin(tx, id, renamed, accountMoved);
        // Where the fund's money goes: an auditor must see what the account was and what it became.
        const changes: Record<string, Record<string, unknown>> = Object.fromEntries(
          (['name', 'code', 'bankAccount'] as const)
            .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
            .map((field) => [field, { from: before[field], to: after[field] }]),
        );
        const changed = Object.keys(changes).length > 0;
        if (changed) await tx.save(Hospital, hospital);
        const left = await tranchesLeftBehind(tx, id);
        const answer = { ...after, scheduledTranchesOnOtherAccounts: left.count };
        if (!changed) return answer; // nothing to audit
        if (changes.bankAccount) changes.bankAccount = { ...changes.bankAccount, scheduledTranchesOnOtherAccounts: left.count };
        await this.audit.record(tx, { actor, action: 'hospital.updated', objectType: 'hospital', objectId: id, summary: { changes } });
        if (changes.bankAccount) await noticeBankAccountChanged(tx, this.outbox, hospital, before.bankAccount, new Date());
        if (changes.bankAccount && left.count > 0) await noticePayeesOutdated(tx, this.outbox, hospital, left);
        return answer;
      }),
    );
  }

  async get(id: string, reader: AuthUser): Promise<HospitalViewDto> {
    const hospital = await this.dataSource.getRepository(Hospital).findOneBy({ id });
    if (!hospital) throw new ResourceNotFoundException('Hospital');
    return HospitalViewDto.for(hospital, reader);
  }

  async list(query: PageQueryDto, reader: AuthUser): Promise<Page<HospitalViewDto>> {
    const after = decodeCursor(query.cursor, 'text');
    const qb = this.dataSource.getRepository(Hospital).createQueryBuilder('h').orderBy('h.code', 'ASC').addOrderBy('h.id', 'ASC').limit(query.limit + 1);
    if (after) qb.where('(h.code, h.id) > (:k, :id::uuid)', { k: after.k, id: after.id });
    const rows = await qb.getMany();
    return toPage(rows, query.limit, (h) => ({ k: h.code, id: h.id }), (h) => HospitalViewDto.for(h, reader));
  }

  private async uniqueCode<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictException('hospital-code-taken', 'Another hospital already uses this code.');
      throw error;
    }
  }
}

/**
 * No two hospitals share a bank account or a name. A statement is imported for the hospital whose account it names, so
 * a second hospital given the first's account number could import the first's statement (its patients' payments, its
 * tranches' references) as its own; and two hospitals of one name are one hospital twice in the list families choose
 * from. Checked under a lock of the hospitals' own, so that two admins at once cannot both pass.
 */
async function assertNoTwin(tx: EntityManager, id: string | null, name: string | null, accountNumber: string | null): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sprout:hospital-names-and-accounts'))`);
  // An account another hospital was paid into before it changed is still that hospital's for its statements
  // (StatementAccounts), so it counts as taken too.
  const [twin] = (await tx.query(
    `SELECT h.code, account.same_account
       FROM hospitals h
      CROSS JOIN LATERAL (SELECT h.bank_account_number = $2
                                 OR EXISTS (SELECT 1 FROM disbursements d WHERE d.hospital_id = h.id AND ${NORMALIZED('d.payee_account_number')} = $2) AS same_account) account
      WHERE ($1::uuid IS NULL OR h.id <> $1::uuid) AND (account.same_account OR lower(btrim(h.name)) = lower(btrim($3)))
      ORDER BY account.same_account DESC LIMIT 1`,
    [id, accountNumber, name],
  )) as { code: string; same_account: boolean }[];
  if (!twin) return;
  if (twin.same_account) throw new ConflictException('hospital-account-taken', `Hospital ${twin.code} has, or was paid into, this bank account.`);
  throw new ConflictException('hospital-name-taken', `Hospital ${twin.code} already has this name.`);
}

function bankColumns(bank: { bankName: string; accountName: string; accountNumber: string }) {
  return { bankName: bank.bankName, bankAccountName: bank.accountName, bankAccountNumber: bank.accountNumber };
}
