import { parseWrkOutput, requestLines } from './wrk';

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
