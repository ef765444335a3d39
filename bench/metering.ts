/**
 * npm run bench:metering — measures (never asserts) the metering pipeline, against the built
 * service (`node dist/main.js` in child processes), a fresh database and its own queue prefixes:
 *
 *  (a) sustained charge throughput: N usage events (with their reservations) bulk-inserted and
 *      their charge jobs queued before a ROLE=worker process starts; time until all are charged.
 *  (b) charge lag at a fixed request rate: a ROLE=all process gets an open-loop load of
 *      POST /v1/responses; lag = ledger_entries.created_at - usage_events.created_at.
 *
 * Prints a table and writes bench/results/metering-<timestamp>.json. Knobs (env): BENCH_EVENTS
 * (50000), BENCH_RATE (500 req/s), BENCH_SECONDS (10), BENCH_OUTPUT_TOKENS (16), BENCH_WARMUP_SECONDS
 * (2), BENCH_PHASES ("a,b"), BENCH_KEEP_DB=1, DATABASE_URL / REDIS_URL (as the service's), and
 * BENCH_B_TOPOLOGY=split ((b) with a ROLE=api and a ROLE=worker process instead of one ROLE=all), and
 * BENCH_PROFILE=1: run the services under `node --cpu-prof` and summarize where their CPU went
 * (profiling slows them: take the figures of such a run as a breakdown, not as the throughput).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { CHARGE_JOB_OPTIONS, JOBS, QUEUES } from '../src/queues/queues';
import {
  BASE_DB,
  cpuSeconds,
  createDatabase,
  deleteRedisKeys,
  dropDatabase,
  isPostgres,
  isRedis,
  ledgerCheck,
  log,
  PRICE,
  quantiles,
  REDIS_URL,
  ROOT,
  round,
  seedEvents,
  sleep,
  runBench,
} from './lib';
import { summarizeProfile } from './profile-summary';

const MAIN = path.join(ROOT, 'dist', 'main.js');
const int = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const CFG = {
  events: int('BENCH_EVENTS', 50_000),
  rate: int('BENCH_RATE', 500),
  seconds: int('BENCH_SECONDS', 10),
  outputTokens: int('BENCH_OUTPUT_TOKENS', 16),
  warmupSeconds: int('BENCH_WARMUP_SECONDS', 2),
  phases: (process.env.BENCH_PHASES ?? 'a,b').split(','),
  profile: process.env.BENCH_PROFILE === '1',
  /** (b) as one ROLE=all process (the default), or "split": a ROLE=api and a ROLE=worker process. */
  topology: process.env.BENCH_B_TOPOLOGY === 'split' ? 'split' : 'all',
  enqueueChunk: 5000,
};
const STAMP = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
const RUN = `${STAMP}_${process.pid}`;
const DB_NAME = `tollgate_bench_${RUN}`.toLowerCase();
let DATABASE_URL = (() => {
  const u = new URL(BASE_DB);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();
const PREFIX = `tollgate-bench-${RUN}`;
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const MODEL = 'bench-sim';

// ---------------------------------------------------------------------------------------------
// Processes and CPU accounting

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}
const procs: Proc[] = [];
// Outside the repository: profiles are large, and only bench/results/*.json is git-ignored.
const PROFILE_DIR = path.join(os.tmpdir(), `tollgate-bench-profiles-${RUN}`);
const profileOf = (name: string) => path.join(PROFILE_DIR, `${name}.cpuprofile`);

function startService(name: string, env: Record<string, string>): Proc {
  const nodeArgs = CFG.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL,
      REDIS_URL,
      QUEUE_PREFIX: `${PREFIX}-${name}`,
      ADMIN_TOKEN,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc = { name, child, exited, output: () => out };
  procs.push(proc);
  return proc;
}

async function stopService(p: Proc) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Measures the share of one core each party used between start() and stop(). */
function cpuMeter(...servicePids: number[]) {
  const parties = {
    service: (pid: number) => servicePids.includes(pid),
    postgres: isPostgres,
    redis: isRedis,
  };
  const read = () => ({
    service: cpuSeconds(parties.service),
    postgres: cpuSeconds(parties.postgres),
    redis: cpuSeconds(parties.redis),
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    at: performance.now(),
    idle: os.cpus().reduce((s, c) => s + c.times.idle, 0) / 1000,
  });
  const start = read();
  return () => {
    const end = read();
    const wall = (end.at - start.at) / 1000;
    const pct = (k: keyof typeof start) => Math.round(((end[k] - start[k]) / wall) * 100);
    const [service, postgres, redis, bench, idle] = (['service', 'postgres', 'redis', 'bench', 'idle'] as const).map(pct);
    return {
      wall_s: +wall.toFixed(2),
      cores: os.cpus().length,
      // percent of ONE core (200% = both cores of a 2-core machine)
      service_pct: service,
      postgres_pct: postgres,
      redis_pct: redis,
      bench_pct: bench,
      // Everything else on the machine (other people's builds and tests skew the figures).
      other_pct: Math.max(0, os.cpus().length * 100 - idle - service - postgres - redis - bench),
      machine_idle_pct: idle,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function request(port: number, method: string, pathname: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: pathname,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100, proc?: Proc) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.output()}`);
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

let db: Client;

/** Ledger facts of a set of charges, from the database's own clock. */
async function batchStats(where: string, params: unknown[]) {
  // One charge transaction stamps all its entries with the same now(): group by it.
  const { rows } = await db.query(
    `WITH b AS (SELECT created_at, count(*)::int AS n FROM ledger_entries l WHERE kind = 'charge' AND ${where} GROUP BY created_at)
     SELECT count(*)::int AS batches, coalesce(avg(n), 0)::float AS mean, coalesce(max(n), 0)::int AS max,
            coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY n), 0)::float AS p50,
            extract(epoch FROM max(created_at) - min(created_at))::float AS span_s
       FROM b`,
    params,
  );
  return rows[0] as { batches: number; mean: number; max: number; p50: number; span_s: number };
}

// ---------------------------------------------------------------------------------------------
// (a) sustained charge throughput

async function phaseA() {
  const N = CFG.events;
  const prefix = `${PREFIX}-a`;
  log(`(a) seeding ${N} usage events with reservations`);
  const seedStart = performance.now();
  const { tenantId, ids } = await seedEvents(db, `${MODEL}-a`, N, 'a');
  const seedMs = performance.now() - seedStart;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.charges, { connection, prefix, defaultJobOptions: CHARGE_JOB_OPTIONS });
  const enqStart = performance.now();
  for (let i = 0; i < ids.length; i += CFG.enqueueChunk) {
    await queue.addBulk(ids.slice(i, i + CFG.enqueueChunk).map((id) => ({ name: JOBS.charge, data: { usageEventId: id }, opts: { jobId: id } })));
  }
  const enqueueMs = performance.now() - enqStart;
  const waiting = await queue.getWaitingCount();
  log(`(a) seeded in ${Math.round(seedMs)} ms, queued ${waiting} jobs in ${Math.round(enqueueMs)} ms; starting the worker`);

  const charged = async () => (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NOT NULL', [tenantId])).rows[0].n as number;
  const spawnAt = performance.now();
  const worker = startService('a', { ROLE: 'worker', PORT: String(await freePort()) });
  let cpu: ReturnType<typeof cpuMeter> | null = null;
  let firstAt = 0;
  const timeline: Array<{ t_s: number; charged: number }> = [];
  await waitFor(
    'all events charged',
    async () => {
      const n = await charged();
      const now = performance.now();
      if (n > 0 && !firstAt) {
        firstAt = now;
        cpu = cpuMeter(worker.child.pid!);
      }
      timeline.push({ t_s: round((now - spawnAt) / 1000, 2), charged: n });
      return n >= N;
    },
    30 * 60_000,
    250,
    worker,
  );
  const doneAt = performance.now();
  const cpuUse = cpu ? (cpu as ReturnType<typeof cpuMeter>)() : null;
  const counts = await queue.getJobCounts('active', 'wait', 'delayed', 'failed', 'completed');
  await stopService(worker);
  await queue.close();
  await connection.quit();

  const batches = await batchStats('tenant_id = $1', [tenantId]);
  const check = await ledgerCheck(db, tenantId);
  const warnings = worker.output().split('\n').filter((l) => /warn|error/i.test(l));
  const profile = CFG.profile ? summarizeProfile(profileOf('a')) : undefined;
  const wallFromFirst = (doneAt - firstAt) / 1000;
  return {
    events: N,
    seed_ms: Math.round(seedMs),
    enqueue_ms: Math.round(enqueueMs),
    enqueue_jobs_per_s: Math.round(N / (enqueueMs / 1000)),
    worker_boot_to_first_charge_ms: Math.round(firstAt - spawnAt),
    wall_first_to_last_charge_s: round(wallFromFirst, 2),
    charges_per_s_wall: Math.round(N / wallFromFirst),
    charges_per_s_ledger_clock: batches.span_s > 0 ? Math.round(N / batches.span_s) : null,
    batches,
    cpu: cpuUse,
    queue_after: counts,
    check,
    worker_warnings: warnings.length,
    worker_warning_sample: warnings.slice(0, 3).map((l) => l.slice(0, 300)),
    profile,
    timeline,
  };
}

// ---------------------------------------------------------------------------------------------
// (b) charge lag at a fixed request rate

async function openLoop(port: number, key: string, rate: number, seconds: number, label: string) {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  let sent = 0;
  let maxBehind = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const body = (i: number) => ({ model: MODEL, input: `${label} request ${i}: what does a metered gateway charge?` });
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    maxBehind = Math.max(maxBehind, due - sent - 1);
    while (sent < due) {
      const i = sent++;
      const start = performance.now();
      pending.push(
        request(port, 'POST', '/v1/responses', key, body(i)).then(
          (res) => {
            latencies.push(performance.now() - start);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          },
          () => {
            errors++;
          },
        ),
      );
    }
    const next = t0 + sent * interval;
    await sleep(Math.max(0, next - performance.now()));
  }
  const sendEnd = performance.now();
  await Promise.all(pending);
  const allAnswered = performance.now();
  latencies.sort((a, b) => a - b);
  const [p50, p99] = quantiles(latencies, [0.5, 0.99]);
  return {
    sent,
    answered_200: statuses.get(200) ?? 0,
    statuses: Object.fromEntries(statuses),
    network_errors: errors,
    send_window_s: round((sendEnd - t0) / 1000, 2),
    offered_rps: round(sent / ((sendEnd - t0) / 1000)),
    achieved_rps: round((statuses.get(200) ?? 0) / ((allAnswered - t0) / 1000)),
    max_scheduler_backlog: maxBehind,
    latency_ms: { p50: round(p50), p99: round(p99), max: round(latencies[latencies.length - 1] ?? NaN) },
  };
}

async function phaseB() {
  const port = await freePort();
  const split = CFG.topology === 'split';
  const app = startService('b', {
    ROLE: split ? 'api' : 'all',
    PORT: String(port),
    QUEUE_PREFIX: `${PREFIX}-b`,
    SIMULATED_OUTPUT_TOKENS: String(CFG.outputTokens),
  });
  const worker = split ? startService('b-worker', { ROLE: 'worker', PORT: String(await freePort()), QUEUE_PREFIX: `${PREFIX}-b` }) : null;
  await waitFor(
    'the service to answer /health',
    async () => (await request(port, 'GET', '/health', '').catch(() => ({ status: 0 }))).status === 200,
    60_000,
    100,
    app,
  );
  const model = await request(port, 'PUT', `/admin/models/${MODEL}`, ADMIN_TOKEN, { provider: 'simulated', ...PRICE });
  if (model.status !== 200) throw new Error(`register model: ${model.status} ${JSON.stringify(model.body)}`);
  const tenant = async (name: string) => {
    const t = await request(port, 'POST', '/admin/tenants', ADMIN_TOKEN, { name, credits: '1000000' });
    if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
    const k = await request(port, 'POST', `/admin/tenants/${t.body.id}/api-keys`, ADMIN_TOKEN, { name });
    if (k.status !== 201) throw new Error(`key: ${k.status} ${JSON.stringify(k.body)}`);
    return { id: t.body.id as string, key: k.body.key as string };
  };
  const unchargedOf = async (tenantId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND charged_at IS NULL', [tenantId])).rows[0].n as number;

  const warm = await tenant('bench-warmup');
  if (CFG.warmupSeconds > 0) {
    log(`(b) warm-up: ${CFG.warmupSeconds} s at ${Math.round(CFG.rate / 2)} req/s`);
    await openLoop(port, warm.key, Math.round(CFG.rate / 2), CFG.warmupSeconds, 'warmup');
    await waitFor('warm-up charges', async () => (await unchargedOf(warm.id)) === 0, 120_000, 200, app);
  }

  const main = await tenant('bench-main');
  log(`(b) ${CFG.rate} req/s for ${CFG.seconds} s`);
  const cpu = cpuMeter(app.child.pid!, ...(worker ? [worker.child.pid!] : []));
  const load = await openLoop(port, main.key, CFG.rate, CFG.seconds, 'main');
  const cpuUse = cpu();
  const loadEnd = performance.now();
  await waitFor('all answered requests charged', async () => (await unchargedOf(main.id)) === 0, 300_000, 100, app);
  const drainMs = performance.now() - loadEnd;
  await stopService(app);
  if (worker) await stopService(worker);

  const lag = (
    await db.query(
      `WITH lag AS (
         SELECT extract(epoch FROM l.created_at - e.created_at) * 1000 AS ms
           FROM usage_events e JOIN ledger_entries l ON l.usage_event_id = e.id AND l.kind = 'charge'
          WHERE e.tenant_id = $1)
       SELECT count(*)::int AS charged,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float AS p50,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::float AS p90,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::float AS p99,
              max(ms)::float AS max, avg(ms)::float AS mean
         FROM lag`,
      [main.id],
    )
  ).rows[0];
  const events = (await db.query('SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1', [main.id])).rows[0].n as number;
  const batches = await batchStats('tenant_id = $1', [main.id]);
  const warnings = app.output().split('\n').filter((l) => /warn|error/i.test(l));
  const profile = CFG.profile ? summarizeProfile(profileOf('b')) : undefined;
  return {
    topology: split ? 'ROLE=api + ROLE=worker processes' : 'one ROLE=all process',
    rate: CFG.rate,
    seconds: CFG.seconds,
    simulated_output_tokens: CFG.outputTokens,
    ...load,
    usage_events: events,
    charged: lag.charged,
    drain_after_load_ms: Math.round(drainMs),
    charge_lag_ms: { p50: round(lag.p50), p90: round(lag.p90), p99: round(lag.p99), max: round(lag.max), mean: round(lag.mean) },
    batches,
    cpu: cpuUse,
    service_warnings: warnings.length,
    service_warning_sample: warnings.slice(0, 3).map((l) => l.slice(0, 300)),
    profile,
  };
}

// ---------------------------------------------------------------------------------------------

async function cleanup() {
  await Promise.all(procs.map(stopService));
  agent.destroy();
  await db?.end().catch(() => undefined);
  if (!process.env.BENCH_KEEP_DB) await dropDatabase(DATABASE_URL);
  await deleteRedisKeys(PREFIX);
}

const topPackages = (p: ReturnType<typeof summarizeProfile>) =>
  p.self_by_package
    .slice(0, 8)
    .map((r) => `${r.what} ${r.pct_of_busy}%`)
    .join(', ');

function table(rows: Array<[string, unknown]>) {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n');
}

async function main() {
  log(`database ${DB_NAME}, queue prefix ${PREFIX}`);
  DATABASE_URL = createDatabase(DB_NAME);
  db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const result: Record<string, unknown> = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, mem_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, load_avg_at_start: os.loadavg().map((l) => round(l, 2)) },
    postgres: (await db.query('SHOW server_version')).rows[0].server_version,
    config: CFG,
  };
  let a: Awaited<ReturnType<typeof phaseA>> | undefined;
  let b: Awaited<ReturnType<typeof phaseB>> | undefined;
  if (CFG.phases.includes('a')) result.a_throughput = a = await phaseA();
  if (CFG.phases.includes('b')) result.b_lag = b = await phaseB();
  result.load_avg_at_end = os.loadavg().map((l) => round(l, 2));

  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `metering-${STAMP}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

  const rows: Array<[string, unknown]> = [];
  if (a) {
    rows.push(
      ['(a) events charged', `${a.check.entries} entries for ${a.check.events} events (balance = ledger: ${a.check.balance_is_ledger}, reserved ${a.check.reserved})`],
      ['(a) enqueue (addBulk x5000)', `${a.enqueue_ms} ms (${a.enqueue_jobs_per_s} jobs/s)`],
      ['(a) worker boot -> 1st charge', `${a.worker_boot_to_first_charge_ms} ms`],
      ['(a) charge throughput', `${a.charges_per_s_wall} charges/s (wall, ${a.wall_first_to_last_charge_s} s); ${a.charges_per_s_ledger_clock} charges/s by ledger timestamps`],
      ['(a) batches', `${a.batches.batches} transactions, mean ${round(a.batches.mean)} p50 ${a.batches.p50} max ${a.batches.max} events`],
      ['(a) CPU (% of one core)', a.cpu],
    );
    if (a.profile) rows.push(['(a) worker CPU by package', `${topPackages(a.profile)} (${a.profile.file})`]);
  }
  if (b) {
    rows.push(
      ['(b) topology', b.topology],
      ['(b) offered / achieved', `${b.offered_rps} req/s offered, ${b.achieved_rps} req/s answered (200) over ${b.send_window_s} s`],
      ['(b) requests', `${b.sent} sent, ${b.answered_200} answered 200, statuses ${JSON.stringify(b.statuses)}, ${b.network_errors} network errors`],
      ['(b) usage events / charged', `${b.usage_events} / ${b.charged} (last charge ${b.drain_after_load_ms} ms after the load ended)`],
      ['(b) request latency ms', b.latency_ms],
      ['(b) charge lag ms', b.charge_lag_ms],
      ['(b) batches', `${b.batches.batches} transactions, mean ${round(b.batches.mean)} p50 ${b.batches.p50} max ${b.batches.max} events`],
      ['(b) CPU (% of one core)', b.cpu],
    );
    if (b.profile) rows.push(['(b) service CPU by package', `${topPackages(b.profile)} (${b.profile.file})`]);
  }
  console.log(`\nTollgate metering bench (${os.cpus().length} cores, ${process.version})\n${table(rows)}\n\nwritten ${path.relative(ROOT, file)}`);
}

runBench(main, cleanup);
