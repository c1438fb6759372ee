export const ROLES = ['applicant', 'reviewer', 'fund_finance', 'hospital_finance', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const STAFF_ROLES: Role[] = ['reviewer', 'fund_finance', 'hospital_finance', 'admin'];

/** Who is calling: set by the auth guard from the verified token and the live session row. */
export type AuthUser = {
  id: string;
  email: string;
  role: Role;
  hospitalId: string | null;
  sessionId: string;
  emailVerified: boolean;
};
