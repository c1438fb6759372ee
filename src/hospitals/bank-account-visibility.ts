import type { AuthUser } from 'src/common/auth/roles';

/**
 * A hospital's account is read by those who pay into it or check it: admins, fund finance, and the hospital's own
 * finance office. A family (any self-registered account) choosing a hospital, or a reviewer, has no use for where the
 * fund's money goes; the account-change email shows even its recipients the last four digits only.
 */
export function seesBankAccount(reader: AuthUser, hospitalId: string): boolean {
  return reader.role === 'admin' || reader.role === 'fund_finance' || (reader.role === 'hospital_finance' && reader.hospitalId === hospitalId);
}
