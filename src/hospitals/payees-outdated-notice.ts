import { EntityManager } from 'typeorm';
import { PAYEE_OUTDATED } from 'src/disbursements/disbursement-view';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { fundFinanceUsers } from 'src/disbursements/disbursement-notifications';

/** Tranches named in the email; the rest are counted (a national center may have hundreds scheduled). */
const LISTED = 50;

/** The hospital's scheduled tranches paying into another account than its current one: how many, their sum, the first LISTED. */
export type TranchesLeftBehind = { count: number; total: string; first: { reference: string; amount: string; exportedAt: Date | null }[] };

/** As the hospital's row now stands in `tx` (saved or unchanged). */
export async function tranchesLeftBehind(tx: EntityManager, hospitalId: string): Promise<TranchesLeftBehind> {
  const rows = (await tx.query(
    `SELECT d.reference, d.amount::text AS amount, d.exported_at, count(*) OVER ()::int AS count, sum(d.amount) OVER ()::text AS total
       FROM disbursements d JOIN hospitals h ON h.id = d.hospital_id
      WHERE d.hospital_id = $1 AND d.status = 'scheduled' AND ${PAYEE_OUTDATED}
      ORDER BY d.created_at, d.tranche_number
      LIMIT ${LISTED}`,
    [hospitalId],
  )) as { reference: string; amount: string; exported_at: Date | null; count: number; total: string }[];
  const first = rows.map((r) => ({ reference: r.reference, amount: r.amount, exportedAt: r.exported_at }));
  return { count: rows[0]?.count ?? 0, total: rows[0]?.total ?? '0', first };
}

/**
 * Tells fund finance — the only role that moves a tranche to the new account (repoint) — that a hospital's account
 * changed while tranches were scheduled to the previous one: payment files leave those out, and without a word a
 * child's payment would wait until someone read a header. Written in the edit's transaction.
 */
export async function noticePayeesOutdated(tx: EntityManager, outbox: OutboxService, hospital: Hospital, left: TranchesLeftBehind): Promise<void> {
  for (const user of await fundFinanceUsers(tx)) {
    await outbox.enqueue(tx, {
      event: 'hospital.payees_outdated',
      template: 'payees-outdated',
      to: { email: user.email, userId: user.id, locale: user.locale },
      context: {
        fullName: user.fullName,
        hospitalName: hospital.name,
        count: left.count,
        total: left.total,
        // One already in a payment file may be paid by the bank to the previous account: that is checked before moving it.
        tranches: left.first.map((t) => ({ trancheReference: t.reference, amount: t.amount, ...(t.exportedAt ? { exportedAt: t.exportedAt.toISOString() } : {}) })),
        more: left.count - left.first.length,
      },
    });
  }
}
