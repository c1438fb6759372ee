import { EntityManager } from 'typeorm';
import { InvalidTokenException } from 'src/auth/auth.exceptions';
import { AuthUser } from 'src/common/auth/roles';

/**
 * The session check again, for a request whose body took long to arrive (an upload may stream for up to
 * HTTP_REQUEST_TIMEOUT_MS): the guard checked the session before the body was read, and a user disabled, signed out,
 * or given another role or hospital meanwhile must not have the upload written in their old name (a statement
 * reconciling the hospital they have just left). The same conditions as the guard's SESSION_USERS, plus the role and
 * hospital the request was authorised with.
 */
export async function assertStillSignedIn(manager: EntityManager, user: AuthUser): Promise<void> {
  const rows = (await manager.query(
    `SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
        AND u.disabled_at IS NULL AND u.token_version = s.token_version AND u.role = $3 AND u.hospital_id IS NOT DISTINCT FROM $4::uuid`,
    [user.sessionId, user.id, user.role, user.hospitalId ?? null],
  )) as unknown[];
  if (rows.length === 0) throw new InvalidTokenException('Your session ended, or your account changed, while the file was being sent; sign in again.');
}
