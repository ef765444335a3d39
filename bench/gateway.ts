/**
 * npm run bench — what the gateway adds to every request, in one run, side by side:
 *   direct (the fast fake upstream), Portkey's open-source gateway (a pure proxy, --headless),
 *   Tollgate's default deployment (ROLE=all, one process, as `npm start` runs it) and Tollgate as
 *   api + worker processes; each with three payloads ("Hello!", a 2,000-token prompt, a streamed
 *   answer of 200 tokens). Per target and payload: max throughput (closed loop, autocannon),
 *   p50/p99 and time to first byte at a steady open-loop rate, CPU seconds per 1,000 requests of
 *   each process from /proc, then peak RSS and heap, and that every answered Tollgate request was
 *   charged exactly once. Prints markdown (and a README block); writes JSON to bench/results/.
 * Measures; asserts no time. Knobs: see the README (BENCH_*).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { summarizeProfile } from './profile-summary';
import { createDatabase, deleteRedisKeys, dropDatabase, log, REDIS_URL, ROOT, round, runBench } from './lib';
import { ClosedLoopResult, closedLoop, OpenLoopResult, openLoop, Target } from './gateway/load';
import { PAYLOADS } from './gateway/payloads';
import { cpuWindow, ProcessGroups, RssSampler } from './gateway/proc';
import { cpuTable, machineLine, roundTripTable, memoryTable, meteringLines, TargetResult, throughputTables } from './gateway/report';
import { firstLine, peakHeap, PORTKEY_START, Proc, serveEnv, spawnProc, stopProc, waitHttp } from './gateway/targets';
import { chargedOnce } from './gateway/metering-check';
import { countRoundTrips } from './gateway/round-trips';

const SMOKE = !!process.env.BENCH_SMOKE;
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 2 : 10));
const RATE = Number(process.env.BENCH_RATE ?? (SMOKE ? 100 : 500));
const RAMP_SECONDS = Number(process.env.BENCH_RAMP_SECONDS ?? (SMOKE ? 1 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Other checkouts, built, each benched beside this one (ROLE=all) as target "base:<folder name>": before/after in one run. */
const BASELINES = new Map(
  (process.env.BENCH_BASELINE ?? '')
    .split(',')
    .filter(Boolean)
    .map((dir) => [`base:${path.basename(path.resolve(dir))}`, path.resolve(dir)]),
);
const TARGETS = (process.env.BENCH_TARGETS ?? ['direct', 'portkey', ...BASELINES.keys(), 'tollgate-all', 'tollgate-split'].join(',')).split(',').map((s) => s.trim());
const PAYLOAD_NAMES = (process.env.BENCH_PAYLOADS ?? PAYLOADS.map((p) => p.name).join(',')).split(',').map((s) => s.trim());
const PROFILE = !!process.env.BENCH_PROFILE;
/** Which windows run per payload: "steady" (open loop at RATE), "max" (closed loop); both unless told. */
const WINDOWS = new Set((process.env.BENCH_WINDOWS ?? 'steady,max').split(',').map((s) => s.trim()));
const NO_OPEN_LOOP: OpenLoopResult = { requests: 0, ok: 0, not_ok: 0, first_failure: null, achieved_rps: 0, p50_ms: null, p99_ms: null, ttfb_p50_ms: null, ttfb_p99_ms: null, by_second: [] };
const NO_CLOSED_LOOP: ClosedLoopResult = { requests: 0, ok: 0, not_ok: 0, rps: 0, p50_ms: NaN, p99_ms: NaN, statuses: {} };
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const MODEL = 'bench-up';
const LABELS: Record<string, string> = {
  ...Object.fromEntries([...BASELINES.keys()].map((k) => [k, `${k.slice(5)} (ROLE=all)`])),
  direct: 'direct', portkey: 'Portkey', 'tollgate-all': 'Tollgate (ROLE=all)', 'tollgate-split': 'Tollgate (api + worker)' };

const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const resultsDir = path.join(ROOT, 'bench', 'results');
const profileDir = path.join(resultsDir, `profile-${stamp}`);
const dbName = `tollgate_bench_gw_${stamp}`;
const prefix = `tollgate-bench-gw-${stamp}`;
/** Each Tollgate target gets a fresh database (`${dbName}_<n>`): no target runs on rows an earlier one left. */
let databaseUrl = '';
const databases = new Set<string>();
const running: Proc[] = [];
const rss = new RssSampler();

async function redisPid(): Promise<number[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const m = /process_id:(\d+)/.exec(await redis.info('server'));
    return m ? [Number(m[1])] : [];
  } finally {
    redis.disconnect();
  }
}

async function postgresBackends(db: Client, name: string): Promise<number[]> {
  return (await db.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => r.pid as number);
}

async function freshDatabase(name: string): Promise<Client> {
  databaseUrl = createDatabase(name);
  databases.add(databaseUrl);
  const db = new Client({ connectionString: databaseUrl });
  db.on('error', (err) => log(`bench database connection: ${err.message}`));
  await db.connect();
  return db;
}

interface Started {
  url: string;
  headers: Record<string, string>;
  procs: Proc[];
  tenantId?: string;
}

async function startTollgate(split: boolean, upstreamUrl: string, providersFile: string, port: number, root = ROOT): Promise<Started> {
  const tag = root === ROOT ? (split ? 'split' : 'all') : `base-${path.basename(root)}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: `${prefix}-${tag}`,
    ADMIN_TOKEN,
    PROVIDERS_FILE: providersFile,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    // e.g. --max-old-space-size=…, for the Tollgate processes only
    NODE_OPTIONS: process.env.BENCH_TOLLGATE_NODE_OPTIONS ?? '',
    ...serveEnv(root),
  };
  const flags = (name: string) => ['-r', path.join(ROOT, 'bench', 'heap-report.js'), ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : []), 'dist/main.js'];
  const heap = (name: string) => path.join(os.tmpdir(), `tollgate-bench-heap-${stamp}-${name}.json`);
  const procs = split
    ? [spawnProc('api', flags('api'), { ...env, ROLE: 'api' }, heap('api')), spawnProc('worker', flags('worker'), { ...env, ROLE: 'worker' }, heap('worker'))]
    : [spawnProc('tollgate', flags(tag), { ...env, ROLE: 'all' }, heap(tag), root)];
  running.push(...procs);
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/health`, procs[0]);
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  await admin('PUT', `/admin/models/${MODEL}`, { provider: 'bench', upstream_model: 'bench-upstream', input_price: '0.25', output_price: '2' });
  const tenant = await admin('POST', '/admin/tenants', { name: `bench-${tag}`, credits: '100000000' });
  // BENCH_BUDGET=1: the key has a (never reached) daily budget, so every admission also holds against its period spend.
  const budget = process.env.BENCH_BUDGET === '1' ? { budget_limit: '1000000', budget_period: 'day' } : {};
  // Limits far above the load, so every request runs the rate-limit check as a limited key does.
  const { key } = await admin('POST', `/admin/tenants/${tenant.id}/api-keys`, { name: 'bench', rpm_limit: 100_000_000, tpm_limit: 1_000_000_000, ...budget });
  void upstreamUrl;
  return { url: `${base}/v1/responses`, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, procs, tenantId: tenant.id };
}

async function main() {
  log(`databases ${dbName}_<n>; ${SECONDS}s windows, ${RATE} req/s, ${CONNECTIONS} connections; targets ${TARGETS.join(',')}; payloads ${PAYLOAD_NAMES.join(',')}`);
  const payloads = PAYLOADS.filter((p) => PAYLOAD_NAMES.includes(p.name));

  const upstream = spawnProc('upstream', ['-r', './bench/register.js', 'bench/fast-upstream.ts'], {});
  running.push(upstream);
  const upstreamUrl = `http://127.0.0.1:${Number(await firstLine(upstream))}/v1`;
  const providersFile = path.join(os.tmpdir(), `tollgate-bench-providers-${stamp}.json`);
  writeFileSync(providersFile, JSON.stringify({ bench: { type: 'openai', base_url: upstreamUrl, api_key: 'sk-upstream-bench' } }));
  const redisPids = await redisPid();
  const redis = new Redis(REDIS_URL);

  const results: TargetResult[] = [];
  for (const [i, name] of TARGETS.entries()) {
    if (!LABELS[name]) throw new Error(`unknown BENCH_TARGETS entry ${name}`);
    log(`target ${name}`);
    let started: Started;
    const tollgate = name.startsWith('tollgate') || BASELINES.has(name);
    const targetDb = `${dbName}_${i}`;
    const db = tollgate ? await freshDatabase(targetDb) : null;
    if (name === 'direct') started = { url: `${upstreamUrl}/responses`, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream-bench' }, procs: [] };
    else if (name === 'portkey') {
      const port = 3950 + i;
      const pk = spawnProc('portkey', [PORTKEY_START, '--headless', `--port=${port}`], {});
      running.push(pk);
      await waitHttp(`http://127.0.0.1:${port}/`, pk);
      started = {
        url: `http://127.0.0.1:${port}/v1/responses`,
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamUrl },
        procs: [pk],
      };
    } else if (BASELINES.has(name)) started = await startTollgate(false, upstreamUrl, providersFile, 3950 + i, BASELINES.get(name)!); else started = await startTollgate(name === 'tollgate-split', upstreamUrl, providersFile, 3950 + i);
    for (const p of started.procs) rss.watch(`${name}:${p.name}`, p.child.pid!);

    let pgPids: number[] = [];
    const groups: ProcessGroups = {
      ...Object.fromEntries(started.procs.map((p) => [p.name, () => [p.child.pid!]])),
      ...(tollgate ? { postgres: () => pgPids, redis: () => redisPids } : {}),
      upstream: () => [upstream.child.pid!],
      'load generator': () => [process.pid],
    };
    const measure = async <T extends { ok: number }>(run: () => Promise<T>) => {
      pgPids = db ? await postgresBackends(db, targetDb) : [];
      const trips = db ? await countRoundTrips(redis, db, targetDb) : null;
      const stop = cpuWindow(groups);
      const r = await run();
      const used = stop();
      if (db) pgPids = [...new Set([...pgPids, ...(await postgresBackends(db, targetDb))])];
      const per1k = Object.fromEntries(Object.entries(used).map(([g, s]) => [g, r.ok ? round((s * 1000) / r.ok, 3) : NaN]));
      return { r, per1k, trips: trips ? await trips(r.ok) : undefined };
    };

    let answered = 0;
    let cutOff = 0;
    const result: TargetResult = { target: name, label: LABELS[name], payloads: {}, memory: {} };
    for (const p of payloads) {
      const target: Target = { url: started.url, headers: started.headers, body: p.body(MODEL) };
      const warm = await closedLoop(target, 10, SMOKE ? 1 : 2);
      // The steady window measures the steady state: its own ramp (connections opening, the first
      // burst of a new rate) runs first, unmeasured, at the same rate.
      const ramp = WINDOWS.has('steady') && RAMP_SECONDS > 0 ? await openLoop(target, RATE, RAMP_SECONDS) : null;
      if (ramp) log(`  ${p.name}: ramp at ${RATE} req/s p99 by second ${ramp.by_second.map((s) => s.p99_ms).join(' ')}`);
      rss.resetWindow();
      const open = WINDOWS.has('steady') ? await measure(() => openLoop(target, RATE, SECONDS)) : { r: NO_OPEN_LOOP, per1k: {}, trips: undefined };
      const closed = WINDOWS.has('max') ? await measure(() => closedLoop(target, CONNECTIONS, SECONDS)) : { r: NO_CLOSED_LOOP, per1k: {}, trips: undefined };
      answered += warm.ok + (ramp?.ok ?? 0) + open.r.ok + closed.r.ok;
      cutOff += 10 + CONNECTIONS; // requests in flight when a closed-loop window ends are cut off
      const peakRss = Object.fromEntries(started.procs.map((proc) => [proc.name, round(rss.windowPeakMb.get(`${name}:${proc.name}`) ?? 0, 0)]));
      const roundTrips = open.trips || closed.trips ? { open: open.trips, closed: closed.trips } : undefined;
      result.payloads[p.name] = { closed: closed.r, open: open.r, ramp, cpu_s_per_1k: { closed: closed.per1k, open: open.per1k }, peak_rss_mb: peakRss, round_trips: roundTrips };
      log(`  ${p.name}: max ${closed.r.rps} req/s; at ${RATE} req/s p50 ${open.r.p50_ms} ms p99 ${open.r.p99_ms} ms (p99 by second: ${open.r.by_second.map((s) => s.p99_ms).join(" ")}); not 200: ${open.r.not_ok + closed.r.not_ok}${open.r.first_failure ? ` (${open.r.first_failure.slice(0, 120)})` : ''}`);
    }
    if (db) result.metering = await chargedOnce(db, started.tenantId!, answered, cutOff);
    for (const p of started.procs) await stopProc(p);
    for (const p of started.procs) result.memory[p.name] = { peak_rss_mb: round(rss.peakMb.get(`${name}:${p.name}`) ?? 0, 0), heap: peakHeap(p) };
    if (db) {
      await db.end();
      await dropDatabase(databaseUrl);
      databases.delete(databaseUrl);
    }
    results.push(result);
  }
  redis.disconnect();

  const tables = throughputTables(results, payloads, RATE, CONNECTIONS);
  const machine = machineLine();
  const readme = [
    '<!-- bench:start (npm run bench prints this block) -->',
    `Measured by \`npm run bench\` on ${machine}; ${SECONDS} s windows. Ratios are against Portkey in the same run.`,
    '',
    tables,
    '<!-- bench:end -->',
  ].join('\n');
  console.log(`\n## Throughput and latency\n\n${tables}\n## CPU seconds per 1,000 answered requests (total excludes the load generator)\n\n${cpuTable(results, payloads)}\n`);
  console.log(`## Round trips per answered request (Redis commands, Postgres transactions)\n\n${roundTripTable(results, payloads)}\n`);
  console.log(`## Memory (peak, each process)\n\n${memoryTable(results, payloads)}\n\n## Charged exactly once\n\n${meteringLines(results)}\n`);
  console.log(`## README block\n\n${readme}\n`);

  const out: Record<string, unknown> = { at: new Date().toISOString(), machine, config: { seconds: SECONDS, rate: RATE, connections: CONNECTIONS, targets: TARGETS, payloads: PAYLOAD_NAMES }, results };
  if (PROFILE) {
    out.profiles = readdirSync(profileDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => summarizeProfile(path.join(profileDir, f), 15));
    console.log(`## Profiles\n\n${JSON.stringify((out.profiles as any[]).map((p) => ({ file: path.relative(ROOT, p.file), busy_ms: p.busy_ms, top: p.inclusive_by_package.slice(0, 10) })), null, 2)}`);
  }
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `gateway-${stamp}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  log(`wrote ${path.relative(ROOT, file)}`);
}

runBench(main, async () => {
  rss.stop();
  await Promise.all(running.map((p) => stopProc(p, 5000)));
  for (const url of databases) await dropDatabase(url).catch((e) => log(`drop ${url}: ${e.message}`));
  await deleteRedisKeys(prefix);
});
