import { DataSource, QueryRunner } from 'typeorm';
import { ConfigValidationError } from 'src/config/env.schema';

/**
 * The role of DATABASE_URL when the tables belong to another (DATABASE_OWNER_URL's): null when both URLs sign in as
 * the same user, or no owner URL is given, and the one role then does everything, as before.
 */
export function runtimeRoleOf(runtimeUrl: string, ownerUrl: string | undefined): string | null {
  if (!ownerUrl) return null;
  const runtime = userOf(runtimeUrl);
  return runtime !== userOf(ownerUrl) ? runtime : null;
}

// pg reads a URL without a user as the operating system's user; Sprout's URLs always name one (the default does).
function userOf(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

export type TableRights = { table: string; rights: string[] };

/**
 * What the runtime role may do to each table: rows only, and never what the schema forbids to everyone. The
 * append-only tables (a `forbid_change()` trigger: the audit trail and its anchors, the ledger, decisions, questions)
 * take no UPDATE or DELETE; the ledger's cached balances (ledger_balance_guard) are read only, but for UPDATE of the
 * fund's accounts' `updated_at`, there only because every movement locks them FOR UPDATE (which asks for an UPDATE
 * right on some column): the posting function, which runs as their owner (SECURITY DEFINER), moves them, and their
 * guard refuses anyone else (migration LedgerTriggersHoldAgainstTheRuntimeRole). The queues drained at COMMIT take
 * rows and give them up, never change them; a payment is never deleted; the migrations' own record is read only.
 * Read from the catalogue, so a migration adding an append-only table is covered without a list here.
 */
export async function runtimeRights(runner: QueryRunner): Promise<TableRights[]> {
  const tables = (await runner.query(
    `SELECT c.relname AS table,
            bool_or(p.proname = 'forbid_change' AND t.tgtype & 16 <> 0) AS no_update,
            bool_or(p.proname = 'forbid_change' AND t.tgtype & 8 <> 0) AS no_delete,
            bool_or(p.proname = 'ledger_balance_guard') AS balance_cache
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
       LEFT JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE c.relkind IN ('r', 'p')
      GROUP BY c.relname
      ORDER BY c.relname`,
  )) as { table: string; no_update: boolean | null; no_delete: boolean | null; balance_cache: boolean | null }[];
  return tables.map((t) => {
    if (t.balance_cache) return { table: t.table, rights: LOCKED_BY_MOVEMENTS.includes(t.table) ? ['SELECT', 'UPDATE (updated_at)'] : ['SELECT'] };
    if (READ_ONLY.includes(t.table)) return { table: t.table, rights: ['SELECT'] };
    if (QUEUES.includes(t.table)) return { table: t.table, rights: ['SELECT', 'INSERT', 'DELETE'] };
    const rights = ['SELECT', 'INSERT'];
    if (!t.no_update) rights.push('UPDATE');
    if (!t.no_delete && !NEVER_DELETED.includes(t.table)) rights.push('DELETE');
    return { table: t.table, rights };
  });
}

const READ_ONLY = ['migrations'];
/** Locked FOR UPDATE by every movement of money (FundLedgerService, ledger_post_pending): the fund's lock order. */
const LOCKED_BY_MOVEMENTS = ['ledger_accounts'];
/** Written by requests, drained by the triggers that post them at COMMIT (the audit chain, the ledger's postings). */
const QUEUES = ['audit_pending', 'ledger_pending_postings'];
/** Kept by a REVOKE in their migration rather than a trigger (a payment's row records the money sent). */
const NEVER_DELETED = ['disbursement_payments'];

/**
 * Gives `role` exactly runtimeRights, in one transaction: what it had before is revoked first, so a table that became
 * append-only in this release loses its UPDATE. Run on the owner's connection, under the migration lock (two
 * replicas granting the same table at once fail with "tuple concurrently updated"). TRUNCATE, REFERENCES, TRIGGER and
 * CREATE in the schema are never given: only the owner can turn a trigger off or change a table.
 */
export async function grantRuntimeRights(runner: QueryRunner, role: string): Promise<TableRights[]> {
  await assertGrantable(runner, role);
  const who = quoteIdent(role);
  const rights = await runtimeRights(runner);
  await runner.startTransaction();
  try {
    await runner.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await runner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${who}`);
    await runner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${who}`);
    await runner.query(`GRANT USAGE ON SCHEMA public TO ${who}`);
    for (const { table, rights: granted } of rights) await runner.query(`GRANT ${granted.join(', ')} ON public.${quoteIdent(table)} TO ${who}`);
    await runner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${who}`);
    await assertNoMoreThan(runner, role, rights);
    await runner.commitTransaction();
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  }
  return rights;
}

/**
 * Whether `role` could switch the append-only triggers off: a superuser, or the owner of a table, or a member of the
 * owner's role (who acts as the owner). What a runtime role of its own (DATABASE_OWNER_URL) is for; start-up warns
 * about it in production when there is no owner URL, and refuses it when there is.
 */
export async function canBypassAppendOnly(db: Pick<DataSource | QueryRunner, 'query'>, role?: string): Promise<'superuser' | 'owner' | null> {
  const [me] = (await db.query(
    `SELECT r.rolsuper AS superuser,
            EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                     WHERE c.relkind IN ('r', 'p') AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owner
       FROM pg_roles r WHERE r.rolname = coalesce($1, current_user)`,
    [role ?? null],
  )) as { superuser: boolean; owner: boolean }[];
  if (me?.superuser) return 'superuser';
  return me?.owner ? 'owner' : null;
}

/**
 * Refuses, naming what to do, what would leave the runtime role with more than row rights or with rights PostgreSQL
 * silently did not give: a role that does not exist (a compose volume older than its init script), one that can
 * switch the triggers off itself, and an owner URL whose role does not own every table (GRANT then only warns).
 */
async function assertGrantable(runner: QueryRunner, role: string): Promise<void> {
  const [found] = (await runner.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role])) as unknown[];
  if (!found) {
    throw new ConfigValidationError(
      `Invalid configuration:\n  - DATABASE_URL: its role "${role}" does not exist: create it (CREATE ROLE ... LOGIN PASSWORD ...; README "Database roles")`,
    );
  }
  const bypass = await canBypassAppendOnly(runner, role);
  if (bypass) {
    throw new ConfigValidationError(
      `Invalid configuration:\n  - DATABASE_URL: its role "${role}" is ${bypass === 'owner' ? "an owner of Sprout's tables (or a member of their owner's role)" : 'a superuser'}, ` +
        "so it could switch off the append-only rules: give it a role that owns nothing (REASSIGN OWNED BY it TO DATABASE_OWNER_URL's role, as that role or an administrator; README \"Database roles\")",
    );
  }
  const notOwned = (await runner.query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE c.relkind IN ('r', 'p', 'S') AND NOT pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY 1 LIMIT 5`,
  )) as { name: string }[];
  if (notOwned.length) {
    throw new ConfigValidationError(
      `Invalid configuration:\n  - DATABASE_OWNER_URL: its role does not own ${notOwned.map((t) => t.name).join(', ')}${notOwned.length === 5 ? ', ...' : ''}, ` +
        "so it cannot give DATABASE_URL's role its rights there: use the tables' owner",
    );
  }
}

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/**
 * What the role holds in the end, whatever its source: REVOKE takes back only what was given to the role itself, and
 * a role that is a member of another (pg_write_all_data, a role with grants of its own) or PUBLIC's grants would keep
 * more. Refused, naming the table and right, inside the grant's transaction.
 */
async function assertNoMoreThan(runner: QueryRunner, role: string, rights: TableRights[]): Promise<void> {
  const held = (await runner.query(
    `SELECT c.relname AS table, p.privilege
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      CROSS JOIN unnest($2::text[]) AS p(privilege)
      WHERE c.relkind IN ('r', 'p') AND has_table_privilege($1, c.oid, p.privilege)`,
    [role, TABLE_PRIVILEGES],
  )) as { table: string; privilege: string }[];
  const allowed = new Map(rights.map((r) => [r.table, new Set(r.rights)]));
  const extra = held.filter((h) => !allowed.get(h.table)?.has(h.privilege));
  if (extra.length) {
    throw new ConfigValidationError(
      `Invalid configuration:\n  - DATABASE_URL: its role "${role}" holds more than row rights, through another role or PUBLIC: ` +
        `${extra.slice(0, 5).map((e) => `${e.privilege} on ${e.table}`).join(', ')}${extra.length > 5 ? ', ...' : ''} (revoke them, or its membership)`,
    );
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
