import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tranches of approved grants and their payments.
 *
 * A tranche can be paid, returned by the bank and paid again, so "paid at most once" is a property of the LIVE
 * payment: `disbursement_payments` keeps every payment ever made, and the partial unique index
 * `disbursement_payments_one_live_key` lets at most one of a tranche's payments be unreturned. Two racing
 * pay requests that both passed every check in code still cannot both commit. A payment row never changes
 * except, once, to record its return.
 */
export class Disbursements1763700005000 implements MigrationInterface {
  name = 'Disbursements1763700005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE disbursements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        application_id uuid NOT NULL REFERENCES applications(id),
        hospital_id uuid NOT NULL REFERENCES hospitals(id),
        tranche_number integer NOT NULL CHECK (tranche_number BETWEEN 1 AND 9999),
        tranche_count integer NOT NULL CHECK (tranche_count BETWEEN 1 AND 9999),
        label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
        reference text NOT NULL CHECK (reference ~ '^SPR-[0-9]{4}-[0-9]{6}-[0-9]{1,4}$'),
        amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
        currency text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
        status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled','paid','reconciled','cancelled','returned')),
        payee_bank_name text NOT NULL,
        payee_account_name text NOT NULL,
        payee_account_number text NOT NULL,
        current_payment_id uuid,
        reconciled_at timestamptz,
        cancelled_at timestamptz,
        cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 1000),
        cancelled_by uuid REFERENCES users(id),
        version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT disbursements_reference_key UNIQUE (reference),
        CONSTRAINT disbursements_tranche_key UNIQUE (application_id, tranche_number),
        CONSTRAINT disbursements_tranche_in_range CHECK (tranche_number <= tranche_count),
        CONSTRAINT disbursements_paid_has_payment CHECK ((status IN ('paid','reconciled')) = (current_payment_id IS NOT NULL)),
        CONSTRAINT disbursements_reconciled_has_time CHECK ((status = 'reconciled') = (reconciled_at IS NOT NULL)),
        CONSTRAINT disbursements_cancelled_has_reason CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX disbursements_status_idx ON disbursements (status, created_at, id)`);
    await q.query(`CREATE INDEX disbursements_hospital_idx ON disbursements (hospital_id, status, created_at, id)`);

    await q.query(`
      CREATE TABLE disbursement_payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        disbursement_id uuid NOT NULL REFERENCES disbursements(id),
        amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
        paid_on date NOT NULL,
        bank_reference text NOT NULL CHECK (length(bank_reference) BETWEEN 1 AND 100),
        paid_by uuid NOT NULL REFERENCES users(id),
        journal_transaction_id bigint NOT NULL REFERENCES journal_transactions(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        returned_at timestamptz,
        returned_by uuid REFERENCES users(id),
        return_reason text CHECK (length(return_reason) BETWEEN 1 AND 1000),
        return_journal_transaction_id bigint REFERENCES journal_transactions(id),
        CONSTRAINT disbursement_payments_return_complete CHECK (
          (returned_at IS NULL) = (returned_by IS NULL) AND (returned_at IS NULL) = (return_reason IS NULL)
          AND (returned_at IS NULL) = (return_journal_transaction_id IS NULL))
      )`);
    // The constraint of DESIGN.md "Money": one live (unreturned) payment per tranche.
    await q.query(`CREATE UNIQUE INDEX disbursement_payments_one_live_key ON disbursement_payments (disbursement_id) WHERE returned_at IS NULL`);
    await q.query(`CREATE INDEX disbursement_payments_disbursement_idx ON disbursement_payments (disbursement_id, created_at)`);
    await q.query(`
      ALTER TABLE disbursements ADD CONSTRAINT disbursements_current_payment_fkey
        FOREIGN KEY (current_payment_id) REFERENCES disbursement_payments(id)`);

    await q.query(`
      CREATE FUNCTION disbursement_payment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'payments are never deleted' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.returned_at IS NOT NULL OR NEW.returned_at IS NULL
           OR (NEW.id, NEW.disbursement_id, NEW.amount, NEW.paid_on, NEW.bank_reference, NEW.paid_by, NEW.journal_transaction_id, NEW.created_at)
              IS DISTINCT FROM (OLD.id, OLD.disbursement_id, OLD.amount, OLD.paid_on, OLD.bank_reference, OLD.paid_by, OLD.journal_transaction_id, OLD.created_at) THEN
          RAISE EXCEPTION 'a payment changes only once, to record its return' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(
      `CREATE TRIGGER disbursement_payments_guard BEFORE UPDATE OR DELETE ON disbursement_payments FOR EACH ROW EXECUTE FUNCTION disbursement_payment_guard()`,
    );
    await q.query(`REVOKE DELETE ON disbursement_payments FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE IF EXISTS disbursements DROP CONSTRAINT IF EXISTS disbursements_current_payment_fkey`);
    await q.query(`DROP TABLE IF EXISTS disbursement_payments`);
    await q.query(`DROP TABLE IF EXISTS disbursements`);
    await q.query(`DROP FUNCTION IF EXISTS disbursement_payment_guard()`);
  }
}
