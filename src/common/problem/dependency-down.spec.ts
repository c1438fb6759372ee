import { isDependencyDown } from 'src/common/problem/problem.filter';

const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });

describe('isDependencyDown (503, not 500)', () => {
  it('knows the ways PostgreSQL and Redis disappear under a request', () => {
    expect(isDependencyDown(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyDown(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isDependencyDown(Object.assign(new Error('connection failure'), { code: '08006' }))).toBe(true);
    expect(isDependencyDown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyDown(named('QueryRunnerAlreadyReleasedError'))).toBe(true);
    // Seen in the PostgreSQL fault test: a transaction's next statement after its connection died.
    expect(isDependencyDown(named('QueryRunnerProviderAlreadyReleasedError'))).toBe(true);
    // pg's query_timeout: the server went silent under the query (the pool drops that connection).
    expect(isDependencyDown(new Error('Query read timeout'))).toBe(true);
  });

  it('looks through a cause chain, but not forever', () => {
    expect(isDependencyDown(new Error('recording failed', { cause: Object.assign(new Error('gone'), { code: '57P01' }) }))).toBe(true);
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(isDependencyDown(loop)).toBe(false);
  });

  it('leaves real bugs and conflicts alone', () => {
    expect(isDependencyDown(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDependencyDown(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDependencyDown(undefined)).toBe(false);
  });
});
