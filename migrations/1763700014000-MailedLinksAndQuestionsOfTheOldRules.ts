import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Brings rows written under the old rules in line with the new ones (data only, no schema):
 *  - an invitation still open on an account that has a password is worthless (AuthService.acceptInvite);
 *  - a disabled account's mailed links are worthless (UsersService.update cancels them when it disables);
 *  - an info-requested email no longer carries the reviewer's question, which may quote the child's diagnosis: the
 *    outbox rows written before keep it no longer.
 * Nothing to undo: the links stay used and the questions are still in info_requests.
 */
export class MailedLinksAndQuestionsOfTheOldRules1763700014000 implements MigrationInterface {
  name = 'MailedLinksAndQuestionsOfTheOldRules1763700014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE one_time_tokens t SET used_at = now() FROM users u
        WHERE u.id = t.user_id AND t.used_at IS NULL
          AND (u.disabled_at IS NOT NULL OR (t.purpose = 'invitation' AND u.password_hash IS NOT NULL))`,
    );
    await q.query(`UPDATE notifications SET context = context - 'message' WHERE template = 'info-requested' AND context ? 'message'`);
  }

  async down(): Promise<void> {
    // Data only: nothing to put back.
  }
}
