import { performance } from 'node:perf_hooks';
import { LoginThrottleSweepService } from 'src/auth/login-throttle-sweep.service';
import { PasswordService } from 'src/auth/password.service';
import { compile as compileTrustedProxies } from '@fastify/proxy-addr';
import { ConfigValidationError, trustProxySetting, validateEnv } from 'src/config/env.schema';
import { PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { writeSecurityFigure } from 'test/support/security-report';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const loginAs = (t: TestApp, email: string, password: string, forwardedFor?: string) => {
  const req = t.http.post(`${API}/auth/login`);
  if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
  return req.send({ email, password });
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('Login brute force (e2e)', () => {
  describe('without a trusted proxy (TRUST_PROXY unset), 5 attempts per address', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
    });
    afterAll(async () => {
      await t.close();
    });
    beforeEach(async () => {
      await t.reset();
    });

    it('throttles the address (429 + Retry-After) and a spoofed X-Forwarded-For does not reset it', async () => {
      const user = await signedInUser(t, 'applicant'); // a sign-in that succeeds gives the address its attempt back
      for (let i = 0; i < 5; i++) expect((await loginAs(t, uniqueEmail('guess'), 'wrong password!')).status).toBe(401);
      const blocked = await loginAs(t, uniqueEmail('guess'), 'wrong password!');
      expect(blocked.status).toBe(429);
      expect(blocked.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      for (const spoofed of ['203.0.113.7', '198.51.100.1, 203.0.113.8', '::1', '127.0.0.2', 'unknown']) {
        const res = await loginAs(t, uniqueEmail('guess'), 'wrong password!', spoofed);
        expect({ spoofed, status: res.status }).toEqual({ spoofed, status: 429 });
      }
      // Even the right password is refused while the address is throttled (no oracle).
      expect((await loginAs(t, user.email, PASSWORD, '203.0.113.9')).status).toBe(429);
    });

    it('does not count the sign-ins that succeed: many people behind one address (a ward, a carrier) are not locked out', async () => {
      const staff = await Promise.all([1, 2, 3].map(() => signedInUser(t, 'reviewer')));
      for (let round = 0; round < 3; round++) {
        for (const user of staff) expect((await loginAs(t, user.email, PASSWORD)).status).toBe(200);
      }
      // Guessing is still counted: five failures, then the address waits, the right password included.
      for (let i = 0; i < 5; i++) expect((await loginAs(t, uniqueEmail('guess'), 'wrong password!')).status).toBe(401);
      expect((await loginAs(t, staff[0].email, PASSWORD)).status).toBe(429);
    });

    it('throttles registrations per address apart from sign-ins, before any password is hashed', async () => {
      const register = () => t.http.post(`${API}/auth/register`).send({ email: uniqueEmail('flood'), password: 'a long enough password', fullName: 'X' });
      for (let i = 0; i < 5; i++) expect((await register()).status).toBe(201);
      const hash = jest.spyOn(t.app.get(PasswordService), 'hash');
      try {
        const blocked = await register();
        expect(blocked.status).toBe(429);
        expect(blocked.body.detail).toBe('Too many registrations. Please wait and try again.'); // not "sign-in attempts"
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
        expect(hash).not.toHaveBeenCalled();
      } finally {
        hash.mockRestore();
      }
      // Counted apart: the address may still sign in.
      const user = await signedInUser(t, 'applicant');
      expect(user.token).toEqual(expect.any(String));
    });

    it('throttles reset requests per address apart from sign-ins: a spray over many addresses stops, known or not alike', async () => {
      const user = await signedInUser(t, 'applicant'); // a sign-in of this address, counted apart
      const forgot = (email: string, forwardedFor?: string) => {
        const req = t.http.post(`${API}/auth/forgot-password`);
        if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
        return req.send({ email });
      };
      const strangers = Array.from({ length: 5 }, () => uniqueEmail('spray'));
      for (const email of strangers) expect((await forgot(email)).status).toBe(202);
      // The sixth of this address, for a real account and for a stranger: the same 429, and nothing written.
      const known = await forgot(user.email);
      const unknown = await forgot(uniqueEmail('spray'), '203.0.113.99'); // a spoofed address changes nothing
      for (const res of [known, unknown]) {
        expect(res.status).toBe(429);
        expect(res.body.detail).toBe('Too many password reset requests. Please wait and try again.');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      const { retryAfter: a, ...knownRest } = known.body;
      const { retryAfter: b, ...unknownRest } = unknown.body;
      expect(knownRest).toEqual(unknownRest);
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1 AND template = 'password-reset'`, [user.email]);
      expect(n).toBe(0);
      // Sign-in is counted apart: the address may still sign in.
      expect((await loginAs(t, user.email, PASSWORD)).status).toBe(200);
    });
  });

  describe('the counters themselves', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('keep no readable trace of what was typed as the email or where from, and the worker deletes those whose window ended', async () => {
      // A password typed into the email box, an address with no account, a reset asked for one.
      expect((await loginAs(t, 'MySecretPass99', 'x')).status).toBe(401);
      expect((await loginAs(t, 'nobody.here@example.org', 'wrong password!')).status).toBe(401);
      await t.http.post(`${API}/auth/forgot-password`).send({ email: 'nobody.here@example.org' }).expect(202);
      const keys = ((await t.dataSource.query(`SELECT key FROM login_throttle`)) as { key: string }[]).map((r) => r.key);
      expect(keys.length).toBeGreaterThanOrEqual(4); // two accounts and the address for sign-in, the reset's two
      for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);

      // A 15-minute window that ended goes; the day's count of the reset emails stays however old its window's start.
      const [ended, day] = ((await t.dataSource.query(
        `(SELECT key FROM login_throttle WHERE window_seconds = $1 LIMIT 1) UNION ALL (SELECT key FROM login_throttle WHERE window_seconds = 86400 LIMIT 1)`,
        [t.config.env.LOGIN_WINDOW_SECONDS],
      )) as { key: string }[]).map((r) => r.key);
      await t.dataSource.query(`UPDATE login_throttle SET window_started_at = now() - make_interval(secs => $1 + 1) WHERE key = ANY($2)`, [
        t.config.env.LOGIN_WINDOW_SECONDS,
        [ended, day],
      ]);
      expect(await t.app.get(LoginThrottleSweepService).sweep()).toBe(1);
      const left = ((await t.dataSource.query(`SELECT key FROM login_throttle`)) as { key: string }[]).map((r) => r.key);
      expect(left.sort()).toEqual(keys.filter((k) => k !== ended).sort());
      expect(left).toContain(day);
    });

    it('count each kind apart: sign-in guesses typed as "reset:<email>" do not use up that account\'s reset requests', async () => {
      const user = await signedInUser(t, 'applicant');
      for (let i = 0; i < 5; i++) expect((await loginAs(t, `reset:${user.email}`, 'wrong password!')).status).toBe(401);
      expect((await loginAs(t, `reset:${user.email}`, 'wrong password!')).status).toBe(429);
      await t.http.post(`${API}/auth/forgot-password`).send({ email: user.email }).expect(202);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1 AND template = 'password-reset'`, [user.email]);
      expect(n).toBe(1);
    });
  });

  describe('TRUST_PROXY=true (trust every hop: the client would choose its own address)', () => {
    /** The configuration error for this TRUST_PROXY, or null when the environment is valid. */
    const problemWith = (value: string): string | null => {
      try {
        validateEnv({ TRUST_PROXY: value });
        return null;
      } catch (error) {
        if (!(error instanceof ConfigValidationError)) throw error;
        return error.message;
      }
    };

    it('stops start-up with a configuration error that names the setting and what to give instead', () => {
      for (const value of ['true', 'TRUE', 'yes']) {
        expect({ value, problem: problemWith(value) }).toEqual({ value, problem: expect.stringMatching(/TRUST_PROXY: .*hop count.*CIDR/) });
      }
    });

    it("takes a hop count, or the proxies' addresses and CIDRs as Fastify does; refuses anything else", () => {
      for (const value of ['1', '2', '10.0.0.5', '10.0.0.0/8, 192.168.1.1', '10.0.0.0/255.0.0.0', '10.0.0.0/32', 'fd00::/8,::1', 'loopback', 'loopback, uniquelocal', 'false']) {
        expect({ value, problem: problemWith(value) }).toEqual({ value, problem: null });
        // And Fastify takes what was accepted (its proxy-addr would otherwise crash start-up).
        const setting = trustProxySetting(value);
        if (Array.isArray(setting)) expect(() => compileTrustedProxies(setting)).not.toThrow();
      }
      // A prefix of 0, or a netmask that is not ones then zeros, Fastify's proxy-addr refuses with a crash at start-up.
      for (const value of ['nginx', '10.0.0.0/33', '10.0.0.0/0', '::/0', '10.0.0.0/0.0.0.0', '10.0.0.0/255.0.255.0', '10.0.0.0/8,', '1.5', '-1', '300.1.1.1', 'all']) {
        expect({ value, problem: problemWith(value) }).toEqual({ value, problem: expect.stringContaining('TRUST_PROXY: ') });
      }
    });
  });

  describe('behind one trusted proxy (TRUST_PROXY=1)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' });
    });
    afterAll(async () => {
      await t.close();
    });
    beforeEach(async () => {
      await t.reset();
    });

    it('counts per forwarded client address', async () => {
      for (let i = 0; i < 3; i++) expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', '203.0.113.10')).status).toBe(401);
      expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', '203.0.113.10')).status).toBe(429);
      expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', '203.0.113.11')).status).toBe(401);
    });

    it('counts an IPv6 client by its /64: the 2^64 addresses one subscriber is given are one address', async () => {
      for (let i = 0; i < 3; i++) expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', `2001:db8:5:7::${i + 1}`)).status).toBe(401);
      for (const same of ['2001:db8:5:7:ffff::9', '2001:0db8:0005:0007:1:2:3:4']) {
        expect({ same, status: (await loginAs(t, uniqueEmail('g'), 'wrong password!', same)).status }).toEqual({ same, status: 429 });
      }
      expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', '2001:db8:5:8::1')).status).toBe(401);
    });

    it('counts the address the proxy appended, whatever the client wrote before it (header "spoofed, real": "real")', async () => {
      // nginx's proxy_add_x_forwarded_for keeps what the client sent and appends the address it saw.
      for (let i = 0; i < 3; i++) {
        expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', `198.51.100.${i + 1}, 203.0.113.20`)).status).toBe(401);
      }
      for (const spoofed of ['198.51.100.99', '203.0.113.21', '10.0.0.1, 192.0.2.1', 'unknown']) {
        const res = await loginAs(t, uniqueEmail('g'), 'wrong password!', `${spoofed}, 203.0.113.20`);
        expect({ spoofed, status: res.status }).toEqual({ spoofed, status: 429 });
      }
      // Another client behind the same proxy is counted on its own.
      expect((await loginAs(t, uniqueEmail('g'), 'wrong password!', '198.51.100.1, 203.0.113.22')).status).toBe(401);
    });

    it('locks the account after 5 failures even when every guess comes from another address; the right password too', async () => {
      const user = await signedInUser(t, 'applicant');
      for (let i = 0; i < 5; i++) expect((await loginAs(t, user.email, `wrong password ${i}`, `198.51.100.${i + 1}`)).status).toBe(401);
      expect((await loginAs(t, user.email.toUpperCase(), 'wrong password 6', '198.51.100.50')).status).toBe(429);
      expect((await loginAs(t, ` ${user.email} `, PASSWORD, '198.51.100.51')).status).toBe(429);
    });

    it('a burst of 40 parallel guesses from 40 addresses gets at most 5 password checks on one account', async () => {
      const user = await signedInUser(t, 'applicant');
      const verify = jest.spyOn(t.app.get(PasswordService), 'verify');
      try {
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => loginAs(t, user.email, `guess ${i} is wrong`, `192.0.2.${i + 1}`)));
        const statuses = results.map((r) => r.status);
        const checked = verify.mock.calls.length;
        writeSecurityFigure('brute-force-burst', { parallel: 40, passwordChecks: checked, refused429: statuses.filter((s) => s === 429).length });
        expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
        // Exactly the account's five failures reach argon2: the count is taken before the check, atomically.
        expect(checked).toBe(5);
        expect(statuses.filter((s) => s === 401)).toHaveLength(5);
        expect((await loginAs(t, user.email, PASSWORD, '192.0.2.200')).status).toBe(429);
      } finally {
        verify.mockRestore();
      }
    });
  });

  describe('unknown email or wrong password: the same work', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
      await t.reset();
    });
    afterAll(async () => {
      await t.close();
    });

    it('unknown email and wrong password do the same work (one argon2 check each) and answer the same body', async () => {
      const user = await signedInUser(t, 'applicant');
      const verify = jest.spyOn(t.app.get(PasswordService), 'verify');
      const unknown: number[] = [];
      const wrong: number[] = [];
      let bodies = new Set<string>();
      for (let i = 0; i < 15; i++) {
        for (const [email, into] of [
          [uniqueEmail('nobody'), unknown],
          [user.email, wrong],
        ] as const) {
          const started = performance.now();
          const res = await loginAs(t, email, `wrong password ${i}`);
          into.push(performance.now() - started);
          expect(res.status).toBe(401);
          bodies = bodies.add(JSON.stringify(res.body));
        }
      }
      const figure = { unknownMedianMs: Math.round(median(unknown)), wrongPasswordMedianMs: Math.round(median(wrong)) };
      writeSecurityFigure('login-timing', figure);
      process.stdout.write(`login timing: unknown email median ${figure.unknownMedianMs} ms, wrong password median ${figure.wrongPasswordMedianMs} ms\n`);
      expect(bodies.size).toBe(1);
      // The same work, not a time (no timed assertions in npm test): an unknown email is checked against a dummy hash.
      expect(verify).toHaveBeenCalledTimes(30);
      const passed = verify.mock.calls.map(([hash]) => (hash ? 'a hash' : 'none'));
      expect(passed.filter((p) => p === 'none')).toHaveLength(15); // unknown: no stored hash, verify() uses its dummy
      verify.mockRestore();
    });
  });
});
