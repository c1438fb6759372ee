import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { Application } from 'src/applications/application.entity';
import type { AuthUser } from 'src/common/auth/roles';

/**
 * The applications a user may see, as an SQL predicate over `alias` with at most one parameter (`param` stands
 * for its placeholder: `:scopeValue` for the query builder, `$2` for plain SQL). null: the user may see none.
 * `kind` names the predicate's shape, the same for every user it applies to.
 */
export type ApplicationScope = { kind: string; predicate: (alias: string, param: string) => string; value: string | null };

/**
 * The statuses in which an application has a grant, and so payouts: what hospital finance needs (DESIGN: "sees only
 * what payouts need"). That a named child's family applied, was refused or withdrew is no business of the hospital's
 * finance office.
 */
const PAYOUT_STATUSES = `('approved', 'disbursing', 'completed', 'cancelled')`;

/**
 * A family its own; reviewers, fund finance and admins every application that has been submitted at least once;
 * hospital finance those of its hospital that have a grant (PAYOUT_STATUSES). Drafts never submitted stay private to
 * the family. Anything outside the scope is simply not found: 404, the same as an id that does not exist.
 */
export function applicationScope(user: AuthUser): ApplicationScope | null {
  switch (user.role) {
    case 'applicant':
      return { kind: 'own', predicate: (a, p) => `${a}.applicant_id = ${p}`, value: user.id };
    case 'reviewer':
    case 'fund_finance':
    case 'admin':
      return { kind: 'submitted', predicate: (a) => `${a}.first_submitted_at IS NOT NULL`, value: null };
    case 'hospital_finance':
      if (!user.hospitalId) return null;
      return { kind: 'hospital', predicate: (a, p) => `${a}.status IN ${PAYOUT_STATUSES} AND ${a}.hospital_id = ${p}`, value: user.hospitalId };
    default:
      return null;
  }
}

/** The same scope as a query builder (never "load, then check"). */
export function scopedApplications(manager: EntityManager, user: AuthUser, alias = 'a'): SelectQueryBuilder<Application> {
  const qb = manager.getRepository(Application).createQueryBuilder(alias);
  const scope = applicationScope(user);
  if (!scope) return qb.where('false');
  return qb.where(scope.predicate(alias, ':scopeValue'), scope.value === null ? {} : { scopeValue: scope.value });
}
