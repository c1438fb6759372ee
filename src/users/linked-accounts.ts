import type { EntityManager } from 'typeorm';

/**
 * Over accounts $1 and $2: whether one person may hold the password of both — one of them (an admin) created the
 * other with a password of its choosing, or one admin created both so; in each case only while the account has not
 * set its own since (a password reset by email).
 */
const PASSWORDS_SET_BY_ONE_SQL = `
  WITH set_by AS (
    SELECT c.object_id AS account, c.actor_id::text AS setter FROM audit_events c
     WHERE c.object_type = 'user' AND c.object_id IN ($1, $2) AND c.action = 'user.created' AND c.actor_id IS NOT NULL AND c.summary ->> 'invited' = 'false'
       AND NOT EXISTS (SELECT 1 FROM audit_events r WHERE r.object_type = 'user' AND r.object_id = c.object_id AND r.action = 'user.password_reset'))
  SELECT 1 FROM set_by x LEFT JOIN set_by y ON y.account <> x.account
   WHERE x.setter IN ($1, $2) OR x.setter = y.setter`;

/**
 * Whether the two accounts may be one person's, for the second approval of a grant (four-eyes): one of them (an
 * admin) created the other or gave it its role — an admin may create a reviewer with a password of its choosing and
 * sign in as it, or promote an account it holds — or one person may hold both passwords (PASSWORDS_SET_BY_ONE_SQL).
 * From the audit trail, by its object index.
 */
export async function linkedAccounts(tx: EntityManager, a: string, b: string): Promise<boolean> {
  const [linked] = (await tx.query(
    `SELECT 1 FROM audit_events
      WHERE object_type = 'user' AND object_id IN ($1, $2) AND actor_id IN ($1::uuid, $2::uuid) AND actor_id::text <> object_id
        AND (action = 'user.created' OR (action = 'user.updated' AND summary -> 'before' ->> 'role' IS DISTINCT FROM summary -> 'after' ->> 'role'))
     UNION ALL (${PASSWORDS_SET_BY_ONE_SQL})
     LIMIT 1`,
    [a, b],
  )) as unknown[];
  return linked !== undefined;
}

/** Whether one person may hold the passwords of both accounts (PASSWORDS_SET_BY_ONE_SQL): one may act as the other. */
export async function passwordsSetByOne(tx: EntityManager, a: string, b: string): Promise<boolean> {
  const [linked] = (await tx.query(`${PASSWORDS_SET_BY_ONE_SQL} LIMIT 1`, [a, b])) as unknown[];
  return linked !== undefined;
}
