import autocannon from 'autocannon';
import { runWrk, wrkAvailable, wrkCanRun } from './wrk';

export type LoadRequest = { method?: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };

export type LoadOptions = {
  baseUrl: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration?: number;
  /** Exactly this many requests, then stop (write runs: each request consumes a row). */
  amount?: number;
  /**
   * Requests per second in all, sent on a schedule instead of as fast as the connections allow (latency at a given
   * rate, without the queueing a saturated run measures); duration runs only.
   */
  rate?: number;
  /** Called for every request: return what to send (path, token, body). */
  next: () => LoadRequest;
  timeoutSeconds?: number;
};

export type LoadGenerator = 'wrk' | 'autocannon';

export type LoadResult = {
  generator: LoadGenerator;
  /** CPU of a generator running in its own process (wrk); null when it ran inside the harness (autocannon). */
  generatorCpuSeconds: number | null;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Successful requests per second over the whole run. */
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  statusCodes: Record<string, number>;
};

/**
 * The generator for runs wrk can take: `BENCH_LOAD_GENERATOR` (wrk | autocannon), else wrk when it is installed.
 * Runs of a fixed number of requests, and requests with bodies, always use autocannon.
 */
export function preferredGenerator(): LoadGenerator {
  const chosen = process.env.BENCH_LOAD_GENERATOR;
  if (chosen === 'wrk' || chosen === 'autocannon') return chosen;
  if (chosen) throw new Error(`BENCH_LOAD_GENERATOR must be wrk or autocannon, not '${chosen}'`);
  return wrkAvailable() ? 'wrk' : 'autocannon';
}

/** One run at fixed concurrency, by wrk where it can take it (see preferredGenerator), else by autocannon. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let sampled: LoadRequest | undefined = options.next();
  if (preferredGenerator() === 'wrk' && wrkCanRun(options, sampled)) return runWrk(options);
  const next = () => {
    const request = sampled ?? options.next();
    sampled = undefined;
    return request;
  };
  return runAutocannon({ ...options, next });
}

/** Latencies are autocannon's (HdrHistogram, ms). */
async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  let lastResponse = started;
  const settings: autocannon.Options = {
    url: options.baseUrl,
    connections: options.connections,
    pipelining: 1,
    timeout: options.timeoutSeconds ?? 30,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => {
          const next = options.next();
          return {
            ...request,
            method: next.method ?? 'GET',
            path: next.path,
            headers: { ...(next.body ? { 'content-type': 'application/json' } : {}), ...(next.headers ?? {}) },
            body: next.body,
          };
        },
      },
    ],
  } as unknown as autocannon.Options;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(settings, (error, done) => (error ? reject(error) : resolve(done)));
    run.on('response', () => (lastResponse = performance.now()));
  });
  // A run of `amount` requests ends at its last response. autocannon only notices at its next one-second sample, so
  // the time it took to answer (and the wall clock around it) was rounded up to a whole second plus: 1,000 writes
  // answered in 3.1 s counted as 4.05 s, 247 instead of ~320 req/s.
  const seconds = options.amount ? (lastResponse - started) / 1000 : result.duration;
  const ok = result['2xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stats as { count: number }).count;
  return {
    generator: 'autocannon',
    generatorCpuSeconds: null,
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    rps: seconds > 0 ? ok / seconds : 0,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p999: (result.latency as unknown as Record<string, number>).p99_9 ?? result.latency.max,
      max: result.latency.max,
    },
    statusCodes,
  };
}
