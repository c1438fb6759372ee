import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { dataSourceOptions, STATEMENT_TIMEOUT_MS } from 'src/database/data-source';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import { startTestApp } from 'test/support/test-app';
import { StallingProxy } from 'test/support/stalling-proxy';

/** PostgreSQL going silent without closing TCP, through a proxy in front of this worker's database. */
describe('A database that vanishes without closing its connections (e2e)', () => {
  const database = new URL(process.env.DATABASE_URL!);
  const proxy = new StallingProxy({ host: database.hostname, port: Number(database.port || 5432) });
  let dataSource: DataSource;

  beforeAll(async () => {
    const url = new URL(database);
    url.hostname = '127.0.0.1';
    url.port = String(await proxy.start());
    // One connection, so the query after the failure can only go through a new one if the silent one was dropped.
    dataSource = new DataSource(dataSourceOptions(url.toString(), 1, 5_000, 'sprout-test-silent', { queryTimeoutMs: 1_000 }));
    await dataSource.initialize();
  });
  afterAll(async () => {
    proxy.resume();
    await dataSource.destroy().catch(() => undefined);
    await proxy.stop();
  });

  it('fails a query that gets no answer after the client timeout, then drops the connection so the next one works', async () => {
    await expect(dataSource.query('SELECT 1 AS n')).resolves.toEqual([{ n: 1 }]);
    proxy.stall();
    await expect(dataSource.query('SELECT 2 AS n')).rejects.toThrow('Query read timeout');
    proxy.resume(); // the server is reachable again (at its new address, after a failover)
    await expect(dataSource.query('SELECT 3 AS n')).resolves.toEqual([{ n: 3 }]);
  });

  it('keeps every connection alive with TCP keepalive probes', () => {
    expect(dataSourceOptions('postgres://x/y').extra).toMatchObject({ keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    expect(dataSourceOptions('postgres://x/y').extra).not.toHaveProperty('query_timeout');
  });

  it("bounds the worker's waits for an answer a little past statement_timeout (not the requests': measured, it cost the queue's tail)", async () => {
    const app = await startTestApp();
    try {
      const worker = app.app.get<DataSource>(getDataSourceToken(WORKER_DATA_SOURCE)).options.extra as { query_timeout?: number; Client?: unknown };
      expect(worker.query_timeout).toBe(STATEMENT_TIMEOUT_MS + 5_000);
      expect(worker.Client).toBeDefined(); // the client that drops a connection whose query timed out
      expect(app.dataSource.options.extra).not.toHaveProperty('query_timeout');
    } finally {
      await app.close();
    }
  });
});
