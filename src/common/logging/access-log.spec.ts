import fastify from 'fastify';
import { Writable } from 'node:stream';
import { AccessLogController } from 'src/common/logging/access-log';
import { createRootLogger } from 'src/common/logging/logger';

describe('AccessLogController', () => {
  it('writes one line per request: method, path without the query, request id, status, response time; no credentials', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const app = fastify({ loggerInstance: createRootLogger('info', sink), logController: new AccessLogController(), genReqId: () => 'req-1' });
    app.get('/things/:id', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: '/things/7?cursor=abc', headers: { authorization: 'Bearer secret-token' } });
    await app.close();
    expect(res.statusCode).toBe(200);
    const access = lines.filter((l) => l.reqId === 'req-1');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/things/7', id: 'req-1' }, res: { statusCode: 200 } });
    expect(typeof access[0].responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });
});
