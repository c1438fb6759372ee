import { ceilingNote, cpuCeiling, cpuNote } from './context';

describe('the CPU ceiling of a run', () => {
  // 1,000 requests that cost the api 0.2 s, PostgreSQL 0.06 s and the load generator 0.04 s: 0.3 ms a request.
  const cpu = { apiSeconds: 0.2, postgresSeconds: 0.06, harnessSeconds: 0.04 };

  it('is the cores divided by what every process spent per request', () => {
    expect(cpuCeiling(cpu, 1000, 2)).toBeCloseTo(2 / 0.0003, 6);
    expect(cpuCeiling(cpu, 1000, 4)).toBeCloseTo(4 / 0.0003, 6);
    expect(cpuCeiling(cpu, 2000, 2)).toBeCloseTo(2 / 0.00015, 6);
  });

  it('is not claimed when nothing was served or nothing measured', () => {
    expect(cpuCeiling(cpu, 0, 2)).toBeUndefined();
    expect(cpuCeiling({ apiSeconds: 0, postgresSeconds: 0, harnessSeconds: 0 }, 1000, 2)).toBeUndefined();
    expect(ceilingNote(cpu, 0, 2)).toBe('');
  });

  it('is written after the costs per request', () => {
    expect(cpuNote(cpu, 1000, 2)).toBe(
      'CPU per request: api 0.20 ms, PostgreSQL 0.06 ms, load generator 0.04 ms; at these costs 2 cores serve at most ~6,667/s',
    );
  });
});
