/** Scenarios 1, 2, 3 and 5: the API process under autocannon (and one big upload). */
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { runLoad, LoadResult } from '../lib/load';
import { peakRssMiB, resetPeakRss, rssMiB } from '../lib/machine';
import { Rng } from '../lib/rng';
import { mintTokens } from '../lib/tokens';
import { camt053Chunks } from '../seed/camt053';
import { benchUuid } from '../seed/ids';
import { deepQueuePage } from '../seed/plan';
import { applicationBody, makeProfiles } from '../seed/profiles';
import { listStatement } from 'src/applications/application-reads';
import { cpuNote, Ctx, describeLoad, FLOOR_NAMES, hasRoute, measured, withCpu, withGeneratorCpu } from './context';
import type { LoadOptions } from '../lib/load';

const API = '/api/v1';
const warmSeconds = (ctx: Ctx) => (ctx.opts.smoke ? 1 : 3);

/** A measured load run: the result, the machine's load around it, and the CPU it cost per successful request. */
async function measuredLoad(ctx: Ctx, options: LoadOptions) {
  const run = await measured(() => withCpu(ctx, () => runLoad(options)));
  const cpuCost = withGeneratorCpu(run.value.cpu, run.value.value);
  return { value: run.value.value, load: run.load, cpu: cpuNote(cpuCost, run.value.value.ok), cpuCost };
}

/** 1. GET /applications/:id as its owner, many owners and ids, tokens minted beforehand. */
export async function readScenario(ctx: Ctx): Promise<void> {
  const { plan } = ctx;
  const rng = new Rng(1);
  const sample = Math.min(plan.applications, 20_000);
  const picks = Array.from({ length: sample }, () => rng.int(1, plan.applications));
  const owners = picks.map((i) => benchUuid('u', ((i - 1) % plan.applicants) + 1));
  const tokens = await mintTokens(ctx.pool, owners, ctx.meta.secrets.JWT_SECRET);
  const requests = picks.map((i, k) => ({ path: `${API}/applications/${benchUuid('a', i)}`, headers: { authorization: `Bearer ${tokens.get(owners[k])}` } }));
  await expectOk(ctx, requests[0].path, requests[0].headers, (body) => body.id === benchUuid('a', picks[0]));
  let k = 0;
  const next = () => requests[k++ % requests.length];
  await runLoad({ baseUrl: ctx.apiBaseUrl, connections: ctx.opts.readConnections, duration: warmSeconds(ctx), next });
  const run = await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: ctx.opts.readConnections, duration: ctx.opts.duration, next });
  const r = run.value;
  const paced = await pacedAtHalf(ctx, r, next);
  ctx.details.read = { owners: tokens.size, ids: sample, result: r, paced: paced.value };
  ctx.log(`  read: ${r.rps.toFixed(0)} req/s; ${describeLoad(r)}`);
  ctx.log(`  read paced at ${paced.asked} req/s: ${describeLoad(paced.value)}`);
  const floor = ctx.floors.pgbenchSelectOnly;
  ctx.rows.push(
    {
      id: '1a', scenario: 'GET /applications/:id (owner)', metric: `throughput @${ctx.opts.readConnections}`, figure: r.rps, unit: 'req/s',
      floorName: FLOOR_NAMES.selectOnly, floor: floor?.tps ?? null, target: { kind: 'minRatio', value: 0.3 }, load: run.load,
      note: [run.cpu, nonOkNote(r)].filter(Boolean).join('; '),
    },
    {
      id: '1b', scenario: 'GET /applications/:id (owner)', metric: `p99 latency @${ctx.opts.readConnections}`, figure: r.latencyMs.p99, unit: 'ms',
      floorName: null, floor: null, target: { kind: 'max', value: 20, unit: 'ms' }, load: run.load,
    },
    pacedRow(ctx, '1c', 'GET /applications/:id (owner)', paced),
  );
}

/** 2. The reviewer queue deep in the table (oldest first submission first): keyset cursors around page 10,000 (at scale 1). */
export async function queueScenario(ctx: Ctx): Promise<void> {
  const deep = deepQueuePage(ctx.plan);
  const pages = Array.from({ length: Math.min(50, deep) }, (_, k) => deep - k).filter((p) => p > 1);
  const offsets = pages.map((p) => (p - 1) * 20 - 1);
  const { rows } = await ctx.pool.query<{ k: string; id: string; n: string }>(
    `SELECT k, id, n FROM (
       SELECT to_char(first_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k, id, row_number() OVER (ORDER BY first_submitted_at, id) - 1 AS n
         FROM applications WHERE status = 'submitted' AND first_submitted_at IS NOT NULL) q
      WHERE n = ANY($1::bigint[])`,
    [offsets],
  );
  if (!rows.length) throw new Error('the review queue is too short for a deep page');
  const cursors = rows.map((r) => Buffer.from(JSON.stringify({ k: r.k, id: r.id })).toString('base64url'));
  const reviewers = Array.from({ length: Math.min(ctx.plan.reviewers, 50) }, (_, r) => benchUuid('r', r + 1));
  const tokens = await mintTokens(ctx.pool, reviewers, ctx.meta.secrets.JWT_SECRET);
  const requests = cursors.map((cursor, k) => ({
    path: `${API}/applications?status=submitted&limit=20&cursor=${cursor}`,
    headers: { authorization: `Bearer ${tokens.get(reviewers[k % reviewers.length])}` },
  }));
  await expectOk(ctx, requests[0].path, requests[0].headers, (body) => Array.isArray(body.items) && body.items.length === 20 && body.items.every((i: { status: string }) => i.status === 'submitted'));
  ctx.details.queueExplain = await explainQueue(ctx, rows[Math.floor(rows.length / 2)], reviewers[0]);
  let k = 0;
  const next = () => requests[k++ % requests.length];
  await runLoad({ baseUrl: ctx.apiBaseUrl, connections: ctx.opts.readConnections, duration: warmSeconds(ctx), next });
  const run = await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: ctx.opts.readConnections, duration: ctx.opts.duration, next });
  const r = run.value;
  const paced = await pacedAtHalf(ctx, r, next);
  const explain = ctx.details.queueExplain as { usesIndex: boolean; text: string };
  ctx.details.queue = { deepPage: deep, pages: [pages[pages.length - 1], pages[0]], result: r, paced: paced.value };
  ctx.log(`  queue (page ${deep}): ${describeLoad(r)}; plan uses an index: ${explain.usesIndex}`);
  ctx.log(`  queue paced at ${paced.asked} req/s: ${describeLoad(paced.value)}`);
  ctx.rows.push(
    {
      id: '2a', scenario: `review queue, page ~${deep.toLocaleString('en-US')}`, metric: `p99 latency @${ctx.opts.readConnections}`, figure: r.latencyMs.p99, unit: 'ms',
      floorName: null, floor: null, target: { kind: 'max', value: 30, unit: 'ms' }, load: run.load, note: [run.cpu, nonOkNote(r)].filter(Boolean).join('; '),
    },
    {
      id: '2b', scenario: `review queue, page ~${deep.toLocaleString('en-US')}`, metric: `throughput @${ctx.opts.readConnections}`, figure: r.rps, unit: 'req/s',
      floorName: FLOOR_NAMES.selectOnly, floor: ctx.floors.pgbenchSelectOnly?.tps ?? null, target: { kind: 'none' }, load: run.load,
      note: `query plan ${explain.usesIndex ? 'uses an index (no sort, no seq scan)' : 'does NOT use an index'}; see EXPLAIN in the report`,
    },
    pacedRow(ctx, '2c', `review queue, page ~${deep.toLocaleString('en-US')}`, paced),
  );
}

/**
 * The same requests at half the rate the saturated run reached, on a fixed schedule: the p99 targets are for 32
 * connections flat out, where latency includes queueing for the two cores (32 connections ÷ the rate); this says
 * what the tail is when the machine has room (bench/HISTORY.md, fifth pass: still major-GC stalls).
 */
async function pacedAtHalf(ctx: Ctx, saturated: LoadResult, next: LoadOptions['next']) {
  const asked = Math.max(2, Math.round(saturated.rps / 2));
  const run = await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: ctx.opts.readConnections, duration: ctx.opts.duration, rate: asked, next });
  return { ...run, asked };
}

function pacedRow(ctx: Ctx, id: string, scenario: string, paced: Awaited<ReturnType<typeof pacedAtHalf>>) {
  const r = paced.value;
  return {
    id, scenario, metric: `p99 latency, paced at half the rate`, figure: r.latencyMs.p99, unit: 'ms',
    floorName: null, floor: null, target: { kind: 'none' as const }, load: paced.load,
    note: [`${r.rps.toFixed(0)} req/s sent on a schedule of ${paced.asked} (half the saturated run's) over ${ctx.opts.readConnections} connections; p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms`, paced.cpu, nonOkNote(r)].filter(Boolean).join('; '),
  };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statement the service sends for a reviewer's queue page (`listStatement`, the
 * same text and values), prepared and executed as the service's pool does, so the plan shown is the one PostgreSQL
 * settles on for it (generic, after five executions, when no custom plan looks cheaper).
 */
async function explainQueue(ctx: Ctx, at: { k: string; id: string }, reviewerId: string): Promise<{ usesIndex: boolean; text: string }> {
  const reviewer = { id: reviewerId, email: 'reviewer@bench.invalid', role: 'reviewer' as const, hospitalId: null, sessionId: reviewerId, emailVerified: true };
  const statement = listStatement(reviewer, { status: 'submitted', after: at, limit: 20 });
  if (!statement) throw new Error('a reviewer sees no queue');
  const client = await ctx.pool.connect();
  try {
    const params = statement.values.map((v) => `'${String(v).replace(/'/g, "''")}'`).join(', ');
    await client.query(`PREPARE bench_queue_sql AS ${statement.text}`);
    for (let run = 0; run < 6; run++) await client.query(`EXECUTE bench_queue_sql(${params})`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_queue_sql(${params})`);
    const [plans] = (await client.query<{ generic_plans: string; custom_plans: string }>(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'bench_queue_sql'`)).rows;
    const text =
      `${statement.text}\n-- values: ${JSON.stringify(statement.values)}\n-- plan cache after 7 executions: ${plans.generic_plans} generic, ${plans.custom_plans} custom\n` +
      rows.map((r) => r['QUERY PLAN']).join('\n');
    return { text, usesIndex: /Index (Only )?Scan/.test(text) && !/Seq Scan on applications/.test(text) && !/\bSort\b/.test(text) };
  } finally {
    await client.query('DEALLOCATE bench_queue_sql').catch(() => undefined);
    client.release();
  }
}

/** 3a. Create drafts, attach the five documents (SQL, untimed: uploads are file I/O), then submit them. */
export async function writeScenario(ctx: Ctx): Promise<void> {
  const { plan, opts } = ctx;
  const families = Array.from({ length: Math.min(plan.applicants, 200) }, (_, k) => benchUuid('u', k + 1));
  const tokens = await mintTokens(ctx.pool, families, ctx.meta.secrets.JWT_SECRET);
  const profiles = makeProfiles(plan.profiles);
  const [{ n: existing }] = (await ctx.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM applications`)).rows;
  const base = Number(existing) + 1;
  const creates = Array.from({ length: opts.writeRequests }, (_, k) => {
    const n = base + k;
    const owner = families[k % families.length];
    return {
      method: 'POST' as const,
      path: `${API}/applications`,
      headers: { authorization: `Bearer ${tokens.get(owner)}` },
      body: JSON.stringify(applicationBody(profiles[n % profiles.length], n, benchUuid('h', 1 + (n % plan.hospitals)))),
    };
  });
  const since = new Date(Date.now() - 1000);
  let c = 0;
  const create = await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: opts.writeConnections, amount: creates.length, next: () => creates[c++ % creates.length] });
  ctx.log(`  create: ${create.value.rps.toFixed(0)} req/s; ${describeLoad(create.value)}`);
  const { rows: drafts } = await ctx.pool.query<{ id: string; applicant_id: string }>(
    `SELECT id, applicant_id FROM applications WHERE status = 'draft' AND created_at >= $1 AND applicant_id = ANY($2::uuid[])`,
    [since, families],
  );
  await ctx.pool.query(
    `INSERT INTO application_documents (application_id, type, file_name, content_type, size, sha256, storage_key, uploaded_by)
     SELECT a.id, d.type, d.type || '.pdf', 'application/pdf', 123456, md5(a.id::text || d.type) || md5(d.type || a.id::text),
            'bench-run/' || a.id || '/' || d.type, a.applicant_id
       FROM applications a CROSS JOIN (VALUES ('diagnosis_certificate'), ('cost_estimate'), ('guardian_id'), ('household_register'), ('income_proof')) d(type)
      WHERE a.id = ANY($1::uuid[])`,
    [drafts.map((d) => d.id)],
  );
  const submits = drafts.map((d) => ({ method: 'POST' as const, path: `${API}/applications/${d.id}/submit`, headers: { authorization: `Bearer ${tokens.get(d.applicant_id)}` } }));
  let s = 0;
  const submit = submits.length
    ? await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: opts.writeConnections, amount: submits.length, next: () => submits[s++ % submits.length] })
    : null;
  if (submit) ctx.log(`  submit: ${submit.value.rps.toFixed(0)} req/s; ${describeLoad(submit.value)}`);
  ctx.details.write = { create: create.value, submit: submit?.value ?? null, drafts: drafts.length };
  const tpcb = ctx.floors.pgbenchTpcb?.tps ?? null;
  const pairs = submit && create.value.rps > 0 && submit.value.rps > 0 ? 1 / (1 / create.value.rps + 1 / submit.value.rps) : 0;
  ctx.rows.push(
    {
      id: '3a', scenario: 'create + submit (one application)', metric: `pairs/s @${opts.writeConnections}`, figure: pairs, unit: 'pairs/s',
      floorName: FLOOR_NAMES.tpcb, floor: tpcb, target: { kind: 'minRatio', value: 0.4 }, load: create.load,
      note: `1/(1/create + 1/submit); create ${create.value.rps.toFixed(0)} req/s (p99 ${create.value.latencyMs.p99} ms), submit ${submit?.value.rps.toFixed(0) ?? 'n/a'} req/s (p99 ${submit?.value.latencyMs.p99 ?? 'n/a'} ms)${nonOkNote(create.value) ? `; create ${nonOkNote(create.value)}` : ''}${submit && nonOkNote(submit.value) ? `; submit ${nonOkNote(submit.value)}` : ''}`,
    },
    {
      id: '3b', scenario: 'POST /applications (create)', metric: `throughput @${opts.writeConnections}`, figure: create.value.rps, unit: 'req/s',
      floorName: FLOOR_NAMES.tpcb, floor: tpcb, target: { kind: 'none' }, load: create.load, note: create.cpu,
    },
    {
      id: '3c', scenario: 'POST /applications/:id/submit', metric: `throughput @${opts.writeConnections}`, figure: submit?.value.rps ?? null, unit: 'req/s',
      floorName: FLOOR_NAMES.tpcb, floor: tpcb, target: { kind: 'none' }, load: submit?.load ?? create.load, note: submit?.cpu,
    },
  );
}

/** 3d. Approvals below the four-eyes threshold (one reviewer), each on its own under_review application. */
export async function approveScenario(ctx: Ctx): Promise<void> {
  if (!hasRoute(ctx, 'POST', '/api/v1/applications/{id}/approve')) {
    ctx.rows.push(skipped('3d', 'POST /applications/:id/approve', 'the approve endpoint is not in /docs-json yet'));
    return;
  }
  const { rows: pool } = await ctx.pool.query<{ id: string }>(`SELECT id FROM applications WHERE status = 'under_review' ORDER BY reference LIMIT $1`, [ctx.opts.writeRequests]);
  if (!pool.length) throw new Error('no under_review applications left to approve (reseed without --reuse)');
  const reviewers = Array.from({ length: Math.min(ctx.plan.reviewers, 50) }, (_, r) => benchUuid('r', r + 1));
  const tokens = await mintTokens(ctx.pool, reviewers, ctx.meta.secrets.JWT_SECRET);
  const body = JSON.stringify({ amount: 1_000_000, comment: 'bench approval' });
  const requests = pool.map((row, k) => ({ method: 'POST' as const, path: `${API}/applications/${row.id}/approve`, headers: { authorization: `Bearer ${tokens.get(reviewers[k % reviewers.length])}` }, body }));
  let k = 0;
  const run = await measuredLoad(ctx, { baseUrl: ctx.apiBaseUrl, connections: ctx.opts.writeConnections, amount: requests.length, next: () => requests[k++ % requests.length] });
  const r = run.value;
  ctx.details.approve = { pool: pool.length, result: r };
  ctx.log(`  approve: ${r.rps.toFixed(0)} req/s; ${describeLoad(r)}`);
  ctx.rows.push({
    id: '3d', scenario: 'POST /applications/:id/approve', metric: `throughput @${ctx.opts.writeConnections}`, figure: r.rps, unit: 'req/s',
    floorName: FLOOR_NAMES.tpcb, floor: ctx.floors.pgbenchTpcb?.tps ?? null, target: { kind: 'minRatio', value: 0.4 }, load: run.load,
    note: `p99 ${r.latencyMs.p99} ms; ${run.cpu}${nonOkNote(r) ? `; ${nonOkNote(r)}` : ''}`,
  });
}

/** 5. One camt.053 statement with an entry for every paid tranche of the reconciliation hospital. */
export async function reconcileScenario(ctx: Ctx): Promise<void> {
  if (!hasRoute(ctx, 'POST', '/api/v1/reconciliation/statements')) {
    ctx.rows.push(skipped('5a', 'statement import + matching', 'the statement import endpoint is not in /docs-json yet'));
    return;
  }
  const hospital = benchUuid('h', 1);
  const { rows: [{ bank_account_number: account }] } = await ctx.pool.query<{ bank_account_number: string }>(`SELECT bank_account_number FROM hospitals WHERE id = $1`, [hospital]);
  const { rows: tranches } = await ctx.pool.query<{ reference: string; amount: string }>(
    `SELECT reference, amount::text FROM disbursements WHERE hospital_id = $1 AND status = 'paid' ORDER BY reference LIMIT $2`,
    [hospital, ctx.plan.reconTranches],
  );
  // A database reused after a run that imported them has few or none left: a statement of 150 entries "passed" 5a
  // once (twenty-sixth pass). Not a measurement of the scenario, so not reported as one.
  if (tranches.length < ctx.plan.reconTranches) {
    throw new Error(
      `only ${tranches.length} of the ${ctx.plan.reconTranches} paid tranches left at the reconciliation hospital (an earlier run on this database reconciled them): seed again without --reuse, or leave reconcile out of --only`,
    );
  }
  const file = join(ctx.resultsDir, `camt053-${ctx.runId}.xml`);
  const out = createWriteStream(file);
  const chunks = camt053Chunks({
    statementId: `STMT-${ctx.runId}`,
    account,
    createdAt: new Date().toISOString(),
    entries: tranches.map((t, k) => ({ reference: t.reference, amount: Number(t.amount), bookingDate: new Date().toISOString().slice(0, 10), bankReference: `RUN${ctx.runId}-${k}` })),
  });
  for (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  const size = statSync(file).size;
  const token = (await mintTokens(ctx.pool, [benchUuid('hf', 1)], ctx.meta.secrets.JWT_SECRET)).get(benchUuid('hf', 1))!;
  // An import still running at the limit is abandoned (the api process is stopped after this scenario, which
  // rolls it back) and reported as taking longer than the limit.
  const limitSeconds = ctx.opts.smoke ? 60 : 300;
  const pid = ctx.api!.pid;
  const rssBefore = rssMiB(pid);
  const resettable = resetPeakRss(pid);
  let sampledPeak = rssBefore ?? 0;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, rssMiB(pid) ?? 0)), 50);
  const run = await measured(async () => {
    const started = performance.now();
    const { status, body } = await uploadMultipart(`${ctx.apiBaseUrl}${API}/reconciliation/statements`, token, file, 'statement.xml', 'application/xml', limitSeconds * 1000);
    return { status, body, seconds: (performance.now() - started) / 1000 };
  }).finally(() => {
    clearInterval(sampler);
    rmSync(file, { force: true });
  });
  const peak = Math.max(sampledPeak, (resettable ? peakRssMiB(pid) : null) ?? 0);
  const { status, body, seconds } = run.value;
  ctx.details.reconcile = { entries: tranches.length, bytes: size, status, response: body, seconds, rssBeforeMiB: rssBefore, peakRssMiB: peak };
  ctx.log(`  reconcile: ${tranches.length} entries (${(size / 1048576).toFixed(0)} MiB) → ${status} in ${seconds.toFixed(1)} s, peak RSS ${peak.toFixed(0)} MiB; ${JSON.stringify(body).slice(0, 200)}`);
  const ok = status === 201 && body.matched === tranches.length;
  const timedOut = status === 0;
  const note = ok
    ? `${tranches.length.toLocaleString('en-US')} entries, ${(size / 1048576).toFixed(0)} MiB, all matched; RSS before ${rssBefore?.toFixed(0)} MiB`
    : timedOut
      ? `did not answer within ${limitSeconds} s; abandoned (rolled back when the api process stopped)`
      : `HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`;
  ctx.rows.push(
    {
      id: '5a', scenario: `camt.053 import + match (${tranches.length.toLocaleString('en-US')} entries)`, metric: 'wall time', figure: ok ? seconds : timedOut ? limitSeconds : null, unit: timedOut ? 's (limit hit)' : 's',
      floorName: null, floor: null, target: { kind: 'max', value: 20, unit: 's' }, load: run.load, note,
    },
    {
      id: '5b', scenario: `camt.053 import + match (${tranches.length.toLocaleString('en-US')} entries)`, metric: 'peak RSS of the api process', figure: peak, unit: 'MiB',
      floorName: null, floor: null, target: { kind: 'max', value: 300, unit: 'MiB' }, load: run.load,
    },
  );
}

export function skipped(id: string, scenario: string, why: string) {
  return { id, scenario, metric: '—', figure: null, unit: '', floorName: null, floor: null, target: { kind: 'none' as const }, load: '—', note: `not run: ${why}` };
}

function nonOkNote(r: LoadResult): string | undefined {
  if (!r.non2xx && !r.errors && !r.timeouts) return undefined;
  const codes = Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`).join(' ');
  return `${r.non2xx} non-2xx (${codes}), ${r.errors} errors, ${r.timeouts} timeouts`;
}

async function expectOk(ctx: Ctx, path: string, headers: Record<string, string>, check: (body: Record<string, any>) => boolean): Promise<void> {
  const response = await fetch(`${ctx.apiBaseUrl}${path}`, { headers });
  const body = (await response.json().catch(() => null)) as Record<string, any> | null;
  if (response.status !== 200 || !body || !check(body)) throw new Error(`sanity check of ${path} failed: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
}

/**
 * POSTs one file as multipart/form-data, streamed from disk, waiting as long as the server takes (fetch would give
 * up after undici's 300 s headers timeout, and a slow import is a finding to report, not a harness failure).
 */
function uploadMultipart(url: string, token: string, path: string, fileName: string, type: string, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const boundary = `----sprout-bench-${Date.now().toString(16)}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(path).size + tail.length;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, body: { timeout: timeoutMs } });
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      if (!req.destroyed || (error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text: text.slice(0, 500) };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.write(head);
    const file = createReadStream(path);
    file.on('error', reject);
    file.on('end', () => req.end(tail));
    file.pipe(req, { end: false });
  });
}
