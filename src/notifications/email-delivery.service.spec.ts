import { describe as describeError, isPermanent, linkNearlyExpired, recipientGone, scrubbed, withoutAddresses } from 'src/notifications/email-delivery.service';

describe('isPermanent', () => {
  it('treats a 5xx about this message (recipient, content, size) as permanent and 4xx as transient', () => {
    expect(isPermanent(Object.assign(new Error('No such user'), { responseCode: 550, code: 'EENVELOPE', command: 'RCPT TO' }))).toBe(true);
    expect(isPermanent(Object.assign(new Error('Message rejected'), { responseCode: 554, code: 'EMESSAGE', command: 'DATA' }))).toBe(true);
    expect(isPermanent(Object.assign(new Error('Too big'), { responseCode: 552, code: 'EENVELOPE', command: 'MAIL FROM' }))).toBe(true);
    expect(isPermanent(Object.assign(new Error('Message size larger than allowed 1000'), { code: 'EMESSAGE', command: 'MAIL FROM' }))).toBe(true);
    expect(isPermanent(Object.assign(new Error('Try later'), { responseCode: 421, code: 'EMESSAGE', command: 'DATA' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('Greylisted'), { responseCode: 451, code: 'EENVELOPE', command: 'RCPT TO' }))).toBe(false);
  });

  it('treats a 5xx about the server and us (login, greeting, sender) as transient: an operator fixes it and the emails go', () => {
    expect(isPermanent(Object.assign(new Error('Invalid login'), { responseCode: 535, code: 'EAUTH', command: 'AUTH PLAIN' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('Invalid greeting'), { responseCode: 554, code: 'EPROTOCOL', command: 'CONN' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('Sender not allowed'), { responseCode: 550, code: 'EENVELOPE', command: 'MAIL FROM' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('Not accepted'), { responseCode: 550, code: 'ECONNECTION', command: 'EHLO' }))).toBe(false);
  });

  it('treats network errors as transient and a recipient the client refuses as permanent', () => {
    expect(isPermanent(Object.assign(new Error('Timeout'), { code: 'ETIMEDOUT' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(false);
    expect(isPermanent(Object.assign(new Error('No recipients defined'), { code: 'EENVELOPE' }))).toBe(true);
    expect(isPermanent(new Error('something else'))).toBe(false);
  });

  it('describes an error with its code and message, bounded', () => {
    expect(describeError(Object.assign(new Error('No such user'), { responseCode: 550, code: 'EENVELOPE' }))).toBe('550 EENVELOPE No such user');
    expect(describeError(new Error('x'.repeat(2000)))).toHaveLength(500);
    expect(describeError({})).toBe('unknown error');
  });
});

describe('withoutAddresses', () => {
  it('drops email addresses from a message meant for the logs', () => {
    expect(withoutAddresses('550 5.1.1 <li.mei@example.org>: Recipient address rejected')).toBe('550 5.1.1 <<address>>: Recipient address rejected');
    expect(withoutAddresses('Timeout')).toBe('Timeout');
  });
});

describe('scrubbed', () => {
  it('replaces the secrets of a sent context, and leaves a context without any as it is (null)', () => {
    expect(JSON.parse(scrubbed({ fullName: 'Li Mei', token: 'k7Qe', verifyUrl: 'https://x/verify?token=k7Qe' }) as string)).toEqual({
      fullName: 'Li Mei',
      token: '[sent]',
      verifyUrl: '[sent]',
    });
    expect(scrubbed({ fullName: 'Li Mei', reference: 'SPR-2026-000123' })).toBeNull();
  });
});

describe('linkNearlyExpired', () => {
  const now = new Date('2026-12-06T10:00:00Z');
  it('is true once the link has less than 10 minutes left (or has expired), false before, and false for an email without a link', () => {
    expect(linkNearlyExpired({ linkExpiresAt: '2026-12-06T09:59:59.999Z' }, now)).toBe(true);
    expect(linkNearlyExpired({ linkExpiresAt: '2026-12-06T10:00:00.000Z' }, now)).toBe(true);
    expect(linkNearlyExpired({ linkExpiresAt: '2026-12-06T10:09:59.999Z' }, now)).toBe(true);
    expect(linkNearlyExpired({ linkExpiresAt: '2026-12-06T10:10:00.000Z' }, now)).toBe(false);
    expect(linkNearlyExpired({ linkExpiresAt: '2026-12-06T11:00:00.000Z' }, now)).toBe(false);
    expect(linkNearlyExpired({ reference: 'SPR-2026-000123' }, now)).toBe(false);
    expect(linkNearlyExpired({ linkExpiresAt: 'not a time' }, now)).toBe(false);
  });
});

describe('recipientGone', () => {
  const financeOfA = { disabled: false, role: 'hospital_finance' as const, hospitalId: 'A' };
  const paidAtA = { hospitalId: 'A', trancheReference: 'SPR-2026-000123-1' };

  it('sends to the account as it still is', () => {
    expect(recipientGone('tranche-paid-hospital', paidAtA, financeOfA)).toBeNull();
    expect(recipientGone('reviewer-digest', {}, { disabled: false, role: 'reviewer', hospitalId: null })).toBeNull();
    expect(recipientGone('application-approved', {}, { disabled: false, role: 'applicant', hospitalId: null })).toBeNull();
    // An address with no account (none today), and a row written before hospitalId was recorded.
    expect(recipientGone('application-approved', {}, null)).toBeNull();
    expect(recipientGone('tranche-paid-hospital', { trancheReference: 'x' }, financeOfA)).toBeNull();
    // The answer to a question goes to whoever asked it, reviewer or admin, while they still review.
    expect(recipientGone('info-answered', {}, { disabled: false, role: 'reviewer', hospitalId: null })).toBeNull();
    expect(recipientGone('info-answered', {}, { disabled: false, role: 'admin', hospitalId: null })).toBeNull();
    expect(recipientGone('info-answered', {}, { disabled: false, role: 'fund_finance', hospitalId: null })).toBe('the recipient is no longer a reviewer or an admin');
    // A hospital's account change: its finance office (of that hospital) and fund finance.
    const changed = { hospitalId: 'A' };
    expect(recipientGone('bank-account-changed', changed, financeOfA)).toBeNull();
    expect(recipientGone('bank-account-changed', changed, { disabled: false, role: 'fund_finance', hospitalId: null })).toBeNull();
    expect(recipientGone('bank-account-changed', changed, { ...financeOfA, hospitalId: 'B' })).toMatch(/no longer works for the hospital/);
  });

  it('not to a disabled account, whatever the email', () => {
    for (const template of ['application-approved', 'tranche-paid-hospital', 'reviewer-digest', 'password-reset']) {
      expect(recipientGone(template, paidAtA, { ...financeOfA, disabled: true })).toMatch(/disabled/);
    }
  });

  it('a staff email only to someone still in the role, and a hospital\'s only to its finance office', () => {
    expect(recipientGone('tranche-paid-hospital', paidAtA, { ...financeOfA, hospitalId: 'B' })).toMatch(/no longer works for the hospital/);
    expect(recipientGone('reconciliation-exceptions', paidAtA, { ...financeOfA, role: 'reviewer', hospitalId: null })).toMatch(/no longer in hospital finance/);
    expect(recipientGone('reviewer-digest', {}, { disabled: false, role: 'fund_finance', hospitalId: null })).toMatch(/no longer a reviewer/);
    expect(recipientGone('payees-outdated', {}, { disabled: false, role: 'reviewer', hospitalId: null })).toMatch(/no longer in fund finance/);
    expect(recipientGone('payees-outdated', {}, { disabled: false, role: 'fund_finance', hospitalId: null })).toBeNull();
  });
});
