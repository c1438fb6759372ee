import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from './load';

describe('runLoad with a fixed number of requests', () => {
  let server: Server;
  let baseUrl: string;
  let answered = 0;
  let lastAnsweredAt = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      answered++;
      res.end('ok');
      lastAnsweredAt = performance.now();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  // Not a speed target: a local server answers 200 requests in milliseconds, and autocannon's own clock (its
  // one-second samples) would report a whole second or more; the rate is what the write scenarios report. Judged
  // against when the server really answered last, so a busy machine (CI's two workers) cannot fail it.
  it('times the run to its last response, not to autocannon’s next one-second sample', async () => {
    const started = performance.now();
    const result = await runLoad({ baseUrl, connections: 4, amount: 200, next: () => ({ path: '/' }) });
    expect(result.ok).toBe(200);
    expect(answered).toBe(200);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThanOrEqual((lastAnsweredAt - started) / 1000 + 0.1);
    expect(result.rps).toBeCloseTo(200 / result.seconds, 6);
  });
});
