import fastify from 'fastify';
import { Writable } from 'node:stream';
import { AccessLogController } from 'src/common/logging/access-log';
import { createRootLogger } from 'src/common/logging/logger';

function appWithLines() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  const logger = createRootLogger('info', sink);
  const app = fastify({ loggerInstance: logger, logController: new AccessLogController(logger), genReqId: () => 'req-1' });
  return { app, lines };
}

describe('AccessLogController', () => {
  it('writes one line per request: method, path without the query, request id, status, response time; no credentials', async () => {
    const { app, lines } = appWithLines();
    app.get('/things/:id', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: '/things/7?cursor=abc', headers: { authorization: 'Bearer secret-token' } });
    await app.close();
    expect(res.statusCode).toBe(200);
    const access = lines.filter((l) => l.reqId === 'req-1');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/things/7', id: 'req-1' }, res: { statusCode: 200 } });
    expect(typeof access[0].responseTime).toBe('number');
    // The fixed shape that lets this line skip redaction: nothing beyond these keys.
    expect(Object.keys(access[0]).sort()).toEqual(['level', 'msg', 'req', 'reqId', 'res', 'responseTime', 'service', 'time']);
    expect(Object.keys(access[0].req as object).sort()).toEqual(['id', 'method', 'url']);
    expect(Object.keys(access[0].res as object)).toEqual(['statusCode']);
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('leaves errors to the redacting request logger; the access line of a failure keeps its shape', async () => {
    const { app, lines } = appWithLines();
    app.get('/fails', async () => {
      throw Object.assign(new Error('upstream refused'), { token: 'leaked-token', password: 'hunter2hunter2' });
    });
    const res = await app.inject({ method: 'GET', url: '/fails' });
    await app.close();
    expect(res.statusCode).toBe(500);
    const [error, access] = lines;
    expect(error).toMatchObject({ level: 50, reqId: 'req-1', msg: 'upstream refused', err: { type: 'Error', message: 'upstream refused' } });
    // An error's own properties stay out of the line altogether (logger.ts, loggableError), credentials among them.
    expect(Object.keys(error.err as object).sort()).toEqual(['message', 'stack', 'type']);
    expect(access).toMatchObject({ level: 30, reqId: 'req-1', msg: 'request completed', res: { statusCode: 500 } });
    expect(Object.keys(access).sort()).toEqual(['level', 'msg', 'req', 'reqId', 'res', 'responseTime', 'service', 'time']);
    expect(JSON.stringify(lines)).not.toMatch(/leaked-token|hunter2/);
  });
});
