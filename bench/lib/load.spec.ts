import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from './load';

describe('runLoad with a fixed number of requests', () => {
  let server: Server;
  let baseUrl: string;
  let answered = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      answered++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  // Not a speed target: a local server answers 200 requests in milliseconds, and autocannon's own clock (its
  // one-second samples) would report more than a second; the rate is what the write scenarios report.
  it('times the run to its last response, not to autocannon’s next one-second sample', async () => {
    const result = await runLoad({ baseUrl, connections: 4, amount: 200, next: () => ({ path: '/' }) });
    expect(result.ok).toBe(200);
    expect(answered).toBe(200);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThan(0.9);
    expect(result.rps).toBeCloseTo(200 / result.seconds, 6);
  });
});
