import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWrkOutput, requestLines, runWrk, wrkAvailable } from './wrk';

describe('wrk request file and output', () => {
  it('writes one line per request: the path, then each header, tab-separated', () => {
    const text = requestLines([
      { path: '/api/v1/applications/1', headers: { authorization: 'Bearer a.b.c' } },
      { path: '/ping' },
    ]);
    expect(text.split('\n')).toEqual(['/api/v1/applications/1\tauthorization: Bearer a.b.c', '/ping']);
  });

  it('refuses a request that would break the line format', () => {
    expect(() => requestLines([{ path: '/x', headers: { h: 'a\tb' } }])).toThrow(/tab or a line break/);
    expect(() => requestLines([{ path: '/x\n/y' }])).toThrow(/tab or a line break/);
  });

  it("reads the script's summary and the shell's CPU line", () => {
    const stdout = [
      'Running 15s test @ http://127.0.0.1:3900',
      'WRK_RESULT {"requests":1500,"durationUs":15000000,"connect":0,"read":1,"write":0,"status":3,"timeout":2,"meanUs":20000.5,"p50Us":18000,"p90Us":30000,"p99Us":45000,"p999Us":60000,"maxUs":70000}',
      'WRK_CPU 150 50 100',
    ].join('\n');
    const { summary, cpuSeconds } = parseWrkOutput(stdout);
    expect(summary.requests).toBe(1500);
    expect(summary.status).toBe(3);
    expect(summary.p99Us).toBe(45000);
    expect(cpuSeconds).toBe(2);
  });

  it('fails loudly when wrk printed no summary', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:3900 Connection refused\nWRK_CPU 0 0 100')).toThrow(/no result/);
  });
});

describe('a paced wrk run', () => {
  // Needs wrk itself (the bench's read runs use it when installed; CI's machine has it).
  const withWrk = wrkAvailable() ? it : it.skip;
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  withWrk('sends the asked rate, not as many as the connections can', async () => {
    const result = await runWrk({ baseUrl, connections: 8, duration: 2, rate: 100, next: () => ({ path: '/' }) });
    // A local server answers thousands a second unpaced; paced, 2 s at 100/s is ~200 (slack for a busy machine).
    expect(result.ok).toBeGreaterThan(150);
    expect(result.ok).toBeLessThan(250);
  });
});
