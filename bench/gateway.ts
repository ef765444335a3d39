/**
 * npm run bench — the gateway's own overhead. Starts a fast fake upstream and Tollgate in front of
 * it (auth, rate-limit check, reservation, usage event, queueing and the charge worker all on), then
 * measures with autocannon, in one run:
 *   1. at a steady 500 req/s (open loop): p50/p90/p99 of the upstream direct and through Tollgate
 *      (the added latency);
 *   2. with 50 connections: the most req/s of each;
 *   3. that every answered request was charged exactly once, and each process's peak RSS.
 * Prints a table and writes JSON to bench/results/. Measures; asserts no time.
 * Env: BENCH_SECONDS (10), BENCH_RATE (500), BENCH_CONNECTIONS (50), BENCH_API_PROCESSES (1),
 * BENCH_PROFILE=1 (write a --cpu-prof of each API process to bench/results/profile-<stamp>/),
 * BENCH_BUDGET=1 (the bench key has a budget: measures the budget hold in the admission statement).
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { Pool } from 'undici';
import { createDatabase, deleteRedisKeys, dropDatabase, log, REDIS_URL, ROOT, round, sleep } from './lib';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 1);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const MODEL = 'bench-up';

interface Proc {
  name: string;
  child: ChildProcess;
  peakRssMb: number;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function spawnNode(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  return { name, child, peakRssMb: 0 };
}

function firstLine(p: Proc): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.child.stdout!.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i).trim());
    });
    p.child.once('exit', (code) => reject(new Error(`${p.name} exited with ${code} before it was ready`)));
  });
}

async function waitHttp(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer`);
}

/**
 * Open-loop load at a steady rate: one request every 1000/rate ms, whatever the answers do
 * (autocannon's overallRate sends each second's requests in a burst, which measures queueing in
 * the burst rather than the gateway's added latency).
 */
async function steadyRate(target: { url: string; body: string; headers: Record<string, string> }, rate: number, seconds: number) {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: 128, pipelining: 1 });
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const total = rate * seconds;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      pool
        .request({ path: url.pathname, method: 'POST', headers: target.headers, body: target.body })
        .then(async (res) => {
          await res.body.text();
          latencies.push(performance.now() - sent);
          if (res.statusCode === 200) ok++;
          else failed++;
        })
        .catch(() => void failed++),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN, 2);
  return { requests: total, ok, failed, rps: round(total / elapsed, 0), p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: q(1) };
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));
}

const summary = (r: autocannon.Result) => ({
  requests: r.requests.total,
  ok: r['2xx'],
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  rps: round(r.requests.average, 0),
  p50_ms: r.latency.p50,
  p90_ms: r.latency.p90,
  p99_ms: r.latency.p99,
  max_ms: r.latency.max,
});

async function main() {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dbName = `tollgate_bench_gw_${stamp}`;
  const prefix = `tollgate-bench-gw-${stamp}`;
  log(`database ${dbName}`);
  const databaseUrl = createDatabase(dbName);
  const procs: Proc[] = [];
  const sampler = setInterval(() => procs.forEach((p) => p.child.pid && (p.peakRssMb = Math.max(p.peakRssMb, rssMb(p.child.pid)))), 200);
  try {
    const upstream = spawnNode('upstream', ['-r', './bench/register.js', 'bench/fast-upstream.ts'], {});
    procs.push(upstream);
    const upstreamPort = Number(await firstLine(upstream));
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}/v1`;
    const providersFile = path.join(os.tmpdir(), `tollgate-bench-providers-${stamp}.json`);
    writeFileSync(providersFile, JSON.stringify({ bench: { type: 'openai', base_url: upstreamUrl, api_key: 'sk-upstream-bench' } }));

    const common = { DATABASE_URL: databaseUrl, REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_TOKEN, PROVIDERS_FILE: providersFile, LOG_LEVEL: 'warn', NODE_ENV: 'production' };
    const ports = Array.from({ length: API_PROCESSES }, (_, i) => 3900 + i);
    for (const [i, port] of ports.entries()) {
      const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench', 'results', `profile-${stamp}`)}`] : [];
      procs.push(spawnNode(`api${i}`, [...profile, 'dist/main.js'], { ...common, ROLE: 'api', PORT: String(port), HOST: '127.0.0.1' }));
    }
    if (!process.env.BENCH_NO_WORKER) procs.push(spawnNode('worker', ['dist/main.js'], { ...common, ROLE: 'worker' }));
    const base = `http://127.0.0.1:${ports[0]}`;
    await Promise.all(ports.map((p) => waitHttp(`http://127.0.0.1:${p}/health`)));

    const admin = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<any>;
    };
    await admin('PUT', `/admin/models/${MODEL}`, { provider: 'bench', upstream_model: 'bench-upstream', input_price: '0.25', output_price: '2' });
    const tenant = await admin('POST', '/admin/tenants', { name: 'bench', credits: '1000000' });
    // BENCH_BUDGET=1: the key has a (never reached) budget, so every admission also holds against its period spend.
    const budget = process.env.BENCH_BUDGET === '1' ? { budget_limit: '1000000', budget_period: 'day' } : {};
    const { key } = await admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'bench', ...budget });

    const body = JSON.stringify({ model: MODEL, input: 'Hello, bench!', max_output_tokens: 64 });
    const direct = { url: `${upstreamUrl}/responses`, method: 'POST' as const, body, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream-bench' } };
    const gateways = ports.map((p) => ({ url: `http://127.0.0.1:${p}/v1/responses`, method: 'POST' as const, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } }));

    log('warm-up');
    await run({ ...gateways[0], connections: 10, duration: 2 });
    await run({ ...direct, connections: 10, duration: 1 });

    log(`steady rate: ${RATE} req/s for ${SECONDS}s each`);
    const fixedDirect = await steadyRate(direct, RATE, SECONDS);
    const fixedGateway = await steadyRate(gateways[0], RATE, SECONDS);
    log(`max throughput: ${CONNECTIONS} connections for ${SECONDS}s each`);
    const maxDirect = await run({ ...direct, connections: CONNECTIONS, duration: SECONDS });
    const maxGateway = await Promise.all(gateways.map((g) => run({ ...g, connections: Math.ceil(CONNECTIONS / gateways.length), duration: SECONDS })));

    log('waiting for every answered request to be charged');
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const counts = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS events, count(charged_at)::int AS charged,
                  (SELECT count(*)::int FROM ledger_entries WHERE kind = 'charge') AS charges,
                  (SELECT count(DISTINCT usage_event_id)::int FROM ledger_entries WHERE kind = 'charge') AS charged_events,
                  (SELECT (balance = (SELECT sum(amount) FROM ledger_entries WHERE tenant_id = t.id))::text FROM tenants t WHERE t.id = $1) AS balance_is_ledger
             FROM usage_events`,
          [tenant.id],
        )
      ).rows[0];
    const drainStart = Date.now();
    let c = await counts();
    while (!process.env.BENCH_NO_WORKER && c.charged < c.events && Date.now() - drainStart < 120_000) {
      await sleep(250);
      c = await counts();
    }
    const lag = (
      await db.query(
        `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY x) AS p99
           FROM (SELECT extract(epoch FROM l.created_at - e.created_at) * 1000 AS x FROM usage_events e JOIN ledger_entries l ON l.usage_event_id = e.id) s`,
      )
    ).rows[0];
    await db.end();

    const answered = fixedGateway.ok + maxGateway.reduce((n, r) => n + r['2xx'], 0);
    const gatewayMax = maxGateway.reduce((n, r) => n + r.requests.average, 0);
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, api_processes: API_PROCESSES, worker_processes: 1 },
      config: { seconds: SECONDS, rate: RATE, connections: CONNECTIONS },
      fixed_rate: {
        upstream_direct: fixedDirect,
        tollgate: fixedGateway,
        added_ms: {
          p50: round(fixedGateway.p50_ms - fixedDirect.p50_ms, 2),
          p90: round(fixedGateway.p90_ms - fixedDirect.p90_ms, 2),
          p99: round(fixedGateway.p99_ms - fixedDirect.p99_ms, 2),
        },
      },
      max_throughput: {
        upstream_direct: summary(maxDirect),
        tollgate: { ...summary(maxGateway[0]), rps: round(gatewayMax, 0), per_process: maxGateway.map(summary) },
        tollgate_over_direct: round(gatewayMax / maxDirect.requests.average, 3),
      },
      metering: {
        answered_in_measured_runs: answered,
        usage_events: c.events,
        charged_events: c.charged,
        ledger_charges: c.charges,
        distinct_events_charged: c.charged_events,
        every_event_charged_once: c.events === c.charged && c.charges === c.charged_events && c.charges === c.events,
        balance_equals_ledger: c.balance_is_ledger === 'true',
        drain_ms: Date.now() - drainStart,
        charge_lag_ms: { p50: round(Number(lag.p50), 1), p99: round(Number(lag.p99), 1) },
      },
      peak_rss_mb: Object.fromEntries(procs.map((p) => [p.name, round(p.peakRssMb, 0)])),
    };

    const f = result.fixed_rate;
    console.log('\n                      p50 ms   p90 ms   p99 ms    req/s (max, 50 conns)');
    console.log(`upstream direct   ${[f.upstream_direct.p50_ms, f.upstream_direct.p90_ms, f.upstream_direct.p99_ms].map((x) => String(x).padStart(8)).join(' ')} ${String(result.max_throughput.upstream_direct.rps).padStart(10)}`);
    console.log(`through Tollgate  ${[f.tollgate.p50_ms, f.tollgate.p90_ms, f.tollgate.p99_ms].map((x) => String(x).padStart(8)).join(' ')} ${String(result.max_throughput.tollgate.rps).padStart(10)}`);
    console.log(`added             ${[f.added_ms.p50, f.added_ms.p90, f.added_ms.p99].map((x) => String(x).padStart(8)).join(' ')}`);
    console.log(`\nmetering: ${c.events} usage events, ${c.charged} charged, ${c.charges} ledger charges; every event charged once: ${result.metering.every_event_charged_once}; charge lag p50 ${result.metering.charge_lag_ms.p50} ms, p99 ${result.metering.charge_lag_ms.p99} ms`);
    console.log(`not answered 200 through Tollgate: steady ${fixedGateway.failed}, max ${maxGateway.reduce((n, r) => n + r.non2xx + r.errors, 0)}`);
    console.log(`peak RSS (MB): ${JSON.stringify(result.peak_rss_mb)}`);
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    const out = path.join(ROOT, 'bench', 'results', `gateway-${stamp}.json`);
    writeFileSync(out, JSON.stringify(result, null, 2));
    log(`wrote ${path.relative(ROOT, out)}`);
  } finally {
    clearInterval(sampler);
    for (const p of procs.reverse()) p.child.kill('SIGTERM');
    await sleep(1500);
    await dropDatabase(databaseUrl).catch((e) => log(`drop ${dbName}: ${e.message}`));
    await deleteRedisKeys(prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
