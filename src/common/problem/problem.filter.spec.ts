import { ArgumentsHost, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ProblemException } from 'src/common/problem/problem.exception';
import { genericProblem, ProblemFilter } from 'src/common/problem/problem.filter';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('ProblemFilter.toProblem: database refusals as answers a client can act on', () => {
  const filter = new ProblemFilter();

  it('a statement cancelled by statement_timeout is 503 with Retry-After, not 500', () => {
    const problem = filter.toProblem(pgError('57014', 'canceling statement due to statement timeout'));
    expect(problem).toMatchObject({ status: 503, retryAfter: 30 });
    expect(problem.detail).toMatch(/retry/i);
  });

  it('every other 503 (a dependency down, a refusal of readiness) says when to retry', () => {
    expect(filter.toProblem(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toMatchObject({ status: 503, retryAfter: 5 });
    expect(filter.toProblem(new ProblemException(503, 'dependency-down', 'Service unavailable', 'Not ready'))).toMatchObject({ status: 503, retryAfter: 5 });
    expect(filter.toProblem(new ServiceUnavailableException())).toMatchObject({ status: 503, retryAfter: 5 });
    expect(filter.toProblem(new ProblemException(409, 'import-in-progress', 'Busy', 'x', { retryAfter: 30 }))).toMatchObject({ retryAfter: 30 });
    expect(filter.toProblem(pgError('42P01', 'x'))).not.toHaveProperty('retryAfter');
  });

  it('a full disk or quota under an upload is 503 with a Retry-After of its own, not 500', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const problem = filter.toProblem(Object.assign(new Error(`${code}: no space left on device, write`), { code, errno: -28, syscall: 'write' }));
      expect(problem).toMatchObject({ status: 503, retryAfter: 60, detail: expect.stringMatching(/retry/i) });
      expect(JSON.stringify(problem)).not.toContain('device');
    }
    // PostgreSQL's own disk full (disk_full), whose message names the file it could not extend.
    const database = filter.toProblem(pgError('53100', 'could not extend file "base/16384/2619": No space left on device'));
    expect(database).toMatchObject({ status: 503, retryAfter: 60 });
    expect(JSON.stringify(database)).not.toContain('base/16384');
  });

  it('a lost race (serialization, deadlock, lock_timeout) is 409 concurrent-update', () => {
    for (const code of ['40001', '40P01', '55P03']) {
      expect(filter.toProblem(pgError(code, 'x'))).toMatchObject({ status: 409, type: expect.stringContaining('concurrent-update') });
    }
  });

  it('anything else unknown stays a 500 that says nothing of the cause', () => {
    const problem = filter.toProblem(pgError('42P01', 'relation "secret_table" does not exist'));
    expect(problem).toMatchObject({ status: 500 });
    expect(JSON.stringify(problem)).not.toContain('secret_table');
  });

  it('every problem has a detail (API.md), even when nothing more specific is known', () => {
    // Nest's unknown-route 404 ("Cannot GET /path"): a detail of our own, not the path echoed back.
    const unknownRoute = filter.toProblem(new NotFoundException('Cannot GET /api/v1/no-such-route'));
    expect(unknownRoute).toMatchObject({ status: 404, detail: expect.any(String) });
    expect(unknownRoute.detail).not.toContain('no-such-route');
    expect(filter.toProblem(new ProblemException(409, 'x', 'Conflict'))).toMatchObject({ detail: expect.any(String) });
    for (const status of [400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 431, 500, 502, 503, 418]) {
      expect(genericProblem(status).detail).toEqual(expect.stringMatching(/\w/));
    }
  });
});

describe('ProblemFilter.catch: what it logs', () => {
  const hostFor = () => {
    const reply = { status: jest.fn().mockReturnThis(), header: jest.fn().mockReturnThis(), send: jest.fn().mockReturnThis() };
    const request = { id: 'r-1', routeOptions: { url: '/health/ready' } };
    return { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
  };

  it('a 503 it chose to answer (readiness in an outage) is one warning without a stack; an unexpected failure an error', () => {
    const filter = new ProblemFilter();
    const logger = (filter as unknown as { logger: { warn: jest.Mock; error: jest.Mock } }).logger;
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    filter.catch(new ProblemException(503, 'dependency-down', 'Service unavailable', 'Not ready: redis unavailable.'), hostFor());
    expect(warn).toHaveBeenCalledWith({ reqId: 'r-1', path: '/health/ready', detail: 'Not ready: redis unavailable.' }, 'answered 503');
    expect(error).not.toHaveBeenCalled();
    filter.catch(new Error('boom'), hostFor());
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'request failed');
  });
});
