import fastify from 'fastify';
import { addSecurityHeaders, securityHeaders, SECURITY_HEADER_OPTIONS } from 'src/common/http/security-headers';

/** What @fastify/helmet 13 (helmet 8.3) sent with SECURITY_HEADER_OPTIONS before the headers were computed once. */
const SENT_BEFORE: Record<string, string> = {
  'content-security-policy':
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline';upgrade-insecure-requests",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

describe('security headers', () => {
  it('are the headers helmet sent per request before, computed once', () => {
    expect(securityHeaders(SECURITY_HEADER_OPTIONS)).toEqual(SENT_BEFORE);
  });

  it('follow the options (helmet decides, not a copy of its output)', () => {
    const headers = securityHeaders({ contentSecurityPolicy: false, xFrameOptions: { action: 'deny' }, strictTransportSecurity: false });
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers).not.toHaveProperty('strict-transport-security');
    expect(headers).not.toHaveProperty('content-security-policy');
  });

  it('refuse a CSP directive computed per request', () => {
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } })).toThrow(/static/);
  });

  it('are on answers, not-found answers and error answers alike', async () => {
    const app = fastify();
    addSecurityHeaders(app);
    app.get('/ok', async () => ({ ok: true }));
    app.get('/fails', async () => {
      throw new Error('boom');
    });
    for (const [url, status] of [['/ok', 200], ['/nothing-here', 404], ['/fails', 500]] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(status);
      expect(res.headers).toMatchObject(SENT_BEFORE);
    }
    await app.close();
  });
});
