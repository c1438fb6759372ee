/** 6. Cold start: spawn to the first 200 of /health/ready, migrations already applied (MIGRATIONS_RUN=false). */
import { join } from 'node:path';
import { median } from '../lib/stats';
import { sampleLoad } from '../lib/machine';
import { startService, waitForHttp } from '../lib/service';
import { Ctx, Role } from './context';

export async function coldStartScenario(ctx: Ctx): Promise<void> {
  const runs = ctx.opts.smoke ? 1 : 3;
  const port = ctx.opts.port + 2;
  const byRole: Record<string, number[]> = {};
  const before = sampleLoad();
  // The smoke run starts only the embedded role: the three share all their start-up code, and smoke.sh has 3 minutes.
  const roles: Role[] = ctx.opts.smoke ? ['all'] : ['all', 'api', 'worker'];
  for (const role of roles) {
    byRole[role] = [];
    for (let k = 0; k < runs; k++) {
      const proc = startService(ctx.serviceEnv(role, port), join(ctx.resultsDir, `coldstart-${role}.log`));
      try {
        byRole[role].push(await waitForHttp(`http://127.0.0.1:${port}/health/ready`, proc, 60_000, proc.startedAt));
      } finally {
        await proc.stop();
      }
    }
  }
  const after = sampleLoad();
  const load = `L1 ${before.load1.toFixed(2)} · ${after.busyPercent === null ? '?' : Math.round(after.busyPercent)}% busy`;
  ctx.details.coldStartMs = byRole;
  const describe = (role: string) => byRole[role].map((ms) => `${(ms / 1000).toFixed(2)}`).join(', ');
  ctx.log(`  cold start (s): ${roles.map((role) => `${role} [${describe(role)}]`).join(', ')}`);
  ctx.rows.push(
    {
      id: '6a', scenario: 'cold start to ready (APP_ROLE=all)', metric: `median of ${runs}`, figure: median(byRole.all) / 1000, unit: 's',
      floorName: null, floor: null, target: { kind: 'max', value: 3, unit: 's' }, load, note: `runs: ${describe('all')} s`,
    },
    ...roles.filter((role) => role !== 'all').map((role) => ({
      id: role === 'api' ? '6b' : '6c', scenario: `cold start to ready (APP_ROLE=${role})`, metric: `median of ${runs}`, figure: median(byRole[role]) / 1000, unit: 's',
      floorName: null, floor: null, target: { kind: 'max' as const, value: 3, unit: 's' }, load,
    })),
  );
}
