import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { Application } from 'src/applications/application.entity';
import type { AuthUser } from 'src/common/auth/roles';

/**
 * The applications `user` may see, as a query (never "load, then check"): a family its own; reviewers,
 * fund finance and admins every application that has been submitted at least once; hospital finance those
 * of its hospital that have been submitted. Drafts never submitted stay private to the family.
 * Anything outside the scope is simply not found: 404, the same as an id that does not exist.
 */
export function scopedApplications(manager: EntityManager, user: AuthUser, alias = 'a'): SelectQueryBuilder<Application> {
  const qb = manager.getRepository(Application).createQueryBuilder(alias);
  switch (user.role) {
    case 'applicant':
      return qb.where(`${alias}.applicant_id = :scopeUserId`, { scopeUserId: user.id });
    case 'reviewer':
    case 'fund_finance':
    case 'admin':
      return qb.where(`${alias}.first_submitted_at IS NOT NULL`);
    case 'hospital_finance':
      if (!user.hospitalId) return qb.where('false');
      return qb.where(`${alias}.first_submitted_at IS NOT NULL AND ${alias}.hospital_id = :scopeHospitalId`, { scopeHospitalId: user.hospitalId });
    default:
      return qb.where('false');
  }
}

