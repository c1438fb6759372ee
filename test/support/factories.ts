import { randomInt, randomUUID } from 'node:crypto';
import { Role } from 'src/common/auth/roles';
import { UsersService } from 'src/users/users.service';
import { TestApp } from 'test/support/test-app';

export const PASSWORD = 'correct horse battery staple';

export type SignedIn = { id: string; email: string; role: Role; token: string; refreshToken: string; auth: { Authorization: string } };

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}@example.org`;

/** A user created through the service (as an admin would), then signed in through HTTP. */
export async function signedInUser(t: TestApp, role: Role, extra: { hospitalId?: string; email?: string; locale?: 'en' | 'zh-CN' } = {}): Promise<SignedIn> {
  const email = extra.email ?? uniqueEmail(role);
  const user = await t.app.get(UsersService).create(
    { email, fullName: `Test ${role}`, role, password: PASSWORD, hospitalId: extra.hospitalId, locale: extra.locale ?? 'en' },
    null,
  );
  return { ...(await login(t, email)), id: user.id, role };
}

export async function login(t: TestApp, email: string, password = PASSWORD): Promise<Omit<SignedIn, 'id' | 'role'>> {
  const res = await t.http.post('/api/v1/auth/login').send({ email, password }).expect(200);
  const token = res.body.accessToken as string;
  return { email, token, refreshToken: res.body.refreshToken as string, auth: { Authorization: `Bearer ${token}` } };
}

/** An account number no other test hospital has (no two hospitals may share one). */
export const uniqueAccountNumber = () => `6222${randomInt(10 ** 9).toString().padStart(9, '0')}${randomInt(10 ** 6).toString().padStart(6, '0')}`;

export const hospitalBody = (code = `H${randomUUID().slice(0, 6).toUpperCase()}`, accountNumber = uniqueAccountNumber()) => ({
  name: `Hospital ${code}`,
  code,
  bankAccount: { bankName: 'ICBC Shanghai', accountName: `Hospital ${code}`, accountNumber },
});

export async function createHospital(t: TestApp, admin: SignedIn, code?: string, accountNumber?: string): Promise<{ id: string; code: string }> {
  const res = await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody(code, accountNumber)).expect(201);
  return res.body as { id: string; code: string };
}
