import { DataSource, QueryRunner } from 'typeorm';

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
 * take no UPDATE or DELETE; the ledger's cached balances (ledger_balance_guard) take no INSERT or DELETE, and UPDATE
 * only because every movement locks them FOR UPDATE (which asks for it): their guard refuses any change but the
 * posting function's, which runs as their owner (SECURITY DEFINER). A payment is never deleted, and the migrations'
 * own record is read only. Read from the catalogue, so a migration adding an append-only table is covered without a list here.
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
    if (t.balance_cache) return { table: t.table, rights: ['SELECT', 'UPDATE'] };
    if (READ_ONLY.includes(t.table)) return { table: t.table, rights: ['SELECT'] };
    const rights = ['SELECT', 'INSERT'];
    if (!t.no_update) rights.push('UPDATE');
    if (!t.no_delete && !NEVER_DELETED.includes(t.table)) rights.push('DELETE');
    return { table: t.table, rights };
  });
}

const READ_ONLY = ['migrations'];
/** Kept by a REVOKE in their migration rather than a trigger (a payment's row records the money sent). */
const NEVER_DELETED = ['disbursement_payments'];

/**
 * Gives `role` exactly runtimeRights, in one transaction: what it had before is revoked first, so a table that became
 * append-only in this release loses its UPDATE. Run on the owner's connection, under the migration lock (two
 * replicas granting the same table at once fail with "tuple concurrently updated"). TRUNCATE, REFERENCES, TRIGGER and
 * CREATE in the schema are never given: only the owner can turn a trigger off or change a table.
 */
export async function grantRuntimeRights(runner: QueryRunner, role: string): Promise<TableRights[]> {
  const who = quoteIdent(role);
  const rights = await runtimeRights(runner);
  await runner.startTransaction();
  try {
    await runner.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await runner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${who}`);
    await runner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${who}`);
    await runner.query(`GRANT USAGE ON SCHEMA public TO ${who}`);
    for (const { table, rights: granted } of rights) await runner.query(`GRANT ${granted.join(', ')} ON ${quoteIdent(table)} TO ${who}`);
    await runner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${who}`);
    await runner.commitTransaction();
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  }
  return rights;
}

/**
 * Whether the role the service connects as could switch the append-only triggers off (a superuser, or the tables'
 * owner): what a runtime role of its own (DATABASE_OWNER_URL) prevents. Start-up warns about it in production.
 */
export async function canBypassAppendOnly(dataSource: DataSource): Promise<'superuser' | 'owner' | null> {
  const [me] = (await dataSource.query(
    `SELECT r.rolsuper AS superuser,
            EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user) AS owner
       FROM pg_roles r WHERE r.rolname = current_user`,
  )) as { superuser: boolean; owner: boolean }[];
  if (me?.superuser) return 'superuser';
  return me?.owner ? 'owner' : null;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
