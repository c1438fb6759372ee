import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A session remembers the user's token version it was started under, and a refresh token rotates only while the
 * user is still at that version. Before, a refresh minted a pair at the user's *current* version, so the events that
 * bump it (a password reset, an accepted invitation, a role or hospital change) did not end sessions a refresh token
 * could still renew — among them a sign-in whose password check was still running when the owner reset the password.
 *
 * Live sessions take their user's current version: they stay as valid as they were. The default (-1, no user's
 * version) costs no table rewrite, leaves ended sessions as they are, and fails safe for a session an older replica
 * starts during a rolling deploy: its refresh token will not rotate, and its user signs in again.
 */
export class SessionsKeepTheirTokenVersion1763700013000 implements MigrationInterface {
  name = 'SessionsKeepTheirTokenVersion1763700013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE auth_sessions ADD COLUMN token_version integer NOT NULL DEFAULT -1`);
    await q.query(
      `UPDATE auth_sessions s SET token_version = u.token_version FROM users u
        WHERE u.id = s.user_id AND s.revoked_at IS NULL AND s.expires_at > now()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE auth_sessions DROP COLUMN token_version`);
  }
}
