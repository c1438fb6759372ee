import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A session remembers the user's token version it was started under, and a refresh token rotates only while the
 * user is still at that version. Before, a refresh minted a pair at the user's *current* version, so the events that
 * bump it (a password reset, an accepted invitation, a role or hospital change) did not end sessions a refresh token
 * could still renew — among them a sign-in whose password check was still running when the owner reset the password.
 *
 * Existing sessions take their user's current version: they stay as valid as they were.
 */
export class SessionsKeepTheirTokenVersion1763700013000 implements MigrationInterface {
  name = 'SessionsKeepTheirTokenVersion1763700013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE auth_sessions ADD COLUMN token_version integer`);
    await q.query(`UPDATE auth_sessions s SET token_version = u.token_version FROM users u WHERE u.id = s.user_id`);
    await q.query(`ALTER TABLE auth_sessions ALTER COLUMN token_version SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE auth_sessions DROP COLUMN token_version`);
  }
}
