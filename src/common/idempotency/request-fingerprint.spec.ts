import fc from 'fast-check';
import { canonicalJson, requestFingerprint } from 'src/common/idempotency/request-fingerprint';

describe('request fingerprint', () => {
  it('ignores key order and undefined members', () => {
    const a = { amount: 100, donor: { name: '张三', city: 'SH' }, note: undefined };
    const b = { donor: { city: 'SH', name: '张三' }, amount: 100 };
    expect(canonicalJson(a)).toBe('{"amount":100,"donor":{"city":"SH","name":"张三"}}');
    expect(requestFingerprint('POST /x', a)).toBe(requestFingerprint('POST /x', b));
  });

  it('tells apart different payloads, operations and value types', () => {
    const base = requestFingerprint('POST /fund/contributions', { amount: 100 });
    expect(requestFingerprint('POST /fund/contributions', { amount: 101 })).not.toBe(base);
    expect(requestFingerprint('POST /fund/contributions', { amount: '100' })).not.toBe(base);
    expect(requestFingerprint('POST /disbursements/1/pay', { amount: 100 })).not.toBe(base);
  });

  it('reads class instances (validated DTOs) like the plain object they hold', () => {
    class Dto {
      amount = 5;
      reference = 'R-1';
    }
    expect(canonicalJson(new Dto())).toBe(canonicalJson({ reference: 'R-1', amount: 5 }));
  });

  it('is JSON that parses back to the same value, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
