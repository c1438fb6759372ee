/** Command line of `npm run bench -- …`. Pure: parsing only, no defaults from the environment. */

export const SCENARIOS = ['read', 'queue', 'write', 'approve', 'notify', 'reconcile', 'coldstart'] as const;
export type ScenarioKey = (typeof SCENARIOS)[number];

export type BenchOptions = {
  scale: number;
  /** Tiny, quick, never judged: every scenario runs and reports (bench/smoke.sh). */
  smoke: boolean;
  /** Seconds of each measured load run (pgbench and autocannon). */
  duration: number;
  only: ScenarioKey[];
  /** Keep an already seeded database of the same scale and generator version instead of seeding again. */
  reuse: boolean;
  /** Drop the bench databases and queue keys at the end (smoke does). */
  cleanup: boolean;
  database: string;
  notifyEvents: number;
  /** Worker processes delivering the notification scenario's events (they share the outbox and the queue). */
  notifyWorkers: number;
  readConnections: number;
  writeConnections: number;
  /** Most requests of one write run (create, submit, approve each consume rows). */
  writeRequests: number;
  port: number;
  /** Run the api process with node --cpu-prof (profiles land in the results directory). */
  profile: boolean;
  /** Seed (or check a reusable seed) and stop. */
  seedOnly: boolean;
  /** Skip pgbench and the bare routes (profiling iterations; ratios then show n/a). */
  skipFloors: boolean;
  /** With --reuse: do not apply pending migrations (one in the working tree may be mid-edit by someone else). */
  skipMigrations: boolean;
  /** Use the service already built in var/bench-dist (iterations, experiments on a patched build). */
  noBuild: boolean;
  /** LOG_LEVEL of the service (production default: info). */
  logLevel: string;
  /** Settings of the service processes for this run (sweeps: DATABASE_POOL_SIZE, NOTIFY_CONCURRENCY, …); the report lists them. */
  serviceEnv: Record<string, string>;
};

export const USAGE = `usage: npm run bench -- [--scale 1] [--smoke] [--duration 15] [--only read,queue,write,approve,notify,reconcile,coldstart]
                       [--reuse] [--cleanup] [--db sprout_bench] [--notify-events 10000] [--notify-workers 1] [--read-connections 32]
                       [--write-connections 16] [--write-requests 4000] [--port 3900] [--profile] [--seed-only] [--skip-floors] [--skip-migrations] [--no-build] [--log-level info]
                       [--service-env NAME=value,NAME=value]`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'\n${USAGE}`);
    const eq = arg.indexOf('=');
    const [name, inline] = eq < 0 ? [arg.slice(2), undefined] : [arg.slice(2, eq), arg.slice(eq + 1)];
    if (inline !== undefined) flags.set(name, inline);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags.set(name, argv[++i]);
    else flags.set(name, true);
  }
  const known = new Set(['scale', 'smoke', 'duration', 'only', 'reuse', 'cleanup', 'db', 'notify-events', 'notify-workers', 'read-connections', 'write-connections', 'write-requests', 'port', 'profile', 'seed-only', 'skip-floors', 'skip-migrations', 'no-build', 'log-level', 'service-env', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  if (flags.has('help')) throw new Error(USAGE);

  const smoke = flags.get('smoke') === true || flags.get('smoke') === 'true';
  const num = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (raw === true || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
    }
    return value;
  };
  const scale = num('scale', smoke ? 0.0005 : 1, 0.0001, 1.05, false);
  const onlyRaw = flags.get('only');
  let only: ScenarioKey[] = [...SCENARIOS];
  if (typeof onlyRaw === 'string') {
    only = onlyRaw.split(',').map((s) => s.trim()).filter(Boolean) as ScenarioKey[];
    const bad = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
    if (bad.length || !only.length) throw new Error(`--only takes some of ${SCENARIOS.join(',')}; got '${onlyRaw}'`);
  } else if (onlyRaw === true) {
    throw new Error(`--only takes some of ${SCENARIOS.join(',')}`);
  }
  const database = typeof flags.get('db') === 'string' ? (flags.get('db') as string) : smoke ? 'sprout_bench_smoke' : 'sprout_bench';
  if (!/^sprout_bench[a-z0-9_]*$/.test(database)) throw new Error('--db must start with sprout_bench (the harness drops and recreates it)');
  return {
    scale,
    smoke,
    duration: num('duration', smoke ? 2 : 15, 1, 600),
    only,
    reuse: flags.get('reuse') === true,
    cleanup: flags.get('cleanup') === true || smoke,
    database,
    notifyEvents: num('notify-events', smoke ? 30 : 10_000, 1, 1_000_000),
    notifyWorkers: num('notify-workers', 1, 1, 8),
    readConnections: num('read-connections', smoke ? 8 : 32, 1, 1000),
    writeConnections: num('write-connections', smoke ? 4 : 16, 1, 1000),
    writeRequests: num('write-requests', smoke ? 40 : 4000, 1, 1_000_000),
    port: num('port', smoke ? 3910 : 3900, 1024, 65000),
    profile: flags.get('profile') === true,
    seedOnly: flags.get('seed-only') === true,
    skipFloors: flags.get('skip-floors') === true,
    skipMigrations: flags.get('skip-migrations') === true,
    noBuild: flags.get('no-build') === true,
    logLevel: typeof flags.get('log-level') === 'string' ? (flags.get('log-level') as string) : 'info',
    serviceEnv: parseServiceEnv(flags.get('service-env')),
  };
}

function parseServiceEnv(raw: string | true | undefined): Record<string, string> {
  if (raw === undefined) return {};
  if (raw === true) throw new Error('--service-env takes NAME=value[,NAME=value…]');
  const env: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair.trim());
    if (!match) throw new Error(`--service-env: '${pair}' is not NAME=value (upper-case name)`);
    env[match[1]] = match[2];
  }
  return env;
}
