/**
 * npm run bench:reports — measures (never asserts) usage reports and invoices on a month of heavy
 * usage, against the built service (`node dist/main.js`, ROLE=all) and a fresh database
 * (tollgate_bench_reports_<timestamp>, migrated with scripts/migrate.mjs, dropped at the end):
 *
 *  seed      BENCH_REPORT_EVENTS (1,000,000) usage events of one tenant spread over January 2026,
 *            5 API keys, 3 models (one changes price on the 15th), each with its exact ledger charge
 *            (breakdown and price version), all inserted with generate_series in SQL. The charges go
 *            in as one INSERT, so the rollup trigger aggregates them as it does any charge batch.
 *  reports   GET /admin/usage for the month with several group_by variants (and CSV, a range with
 *            partial hours, all tenants): p50 / p95 / max over BENCH_REPORT_RUNS (20) after 3 warm-ups;
 *            plus, for comparison, the same aggregation as a plain join of usage_events and
 *            ledger_entries (what a report would cost without the rollups).
 *  invoice   POST /admin/invoices for the month -> time until it is ready (and the same for a period
 *            with partial hours); its total is checked against the ledger.
 *  charging  what the rollup trigger adds to charging: ChargerService.chargeEvents in batches of 500
 *            on BENCH_CHARGE_EVENTS (20,000) fresh events, with the trigger on, then off.
 *
 * Prints a table and writes bench/results/reports-<timestamp>.json. Knobs (env): BENCH_REPORT_EVENTS,
 * BENCH_REPORT_RUNS, BENCH_CHARGE_EVENTS, BENCH_KEEP_DB=1, DATABASE_URL / REDIS_URL (as the service's).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { addAmounts } from '../src/billing/money';
import { Env } from '../src/config/env';
import { ChargerService } from '../src/metering/charger.service';
import { PrismaService } from '../src/prisma/prisma.service';
import { createDatabase, deleteRedisKeys, dropDatabase, log, quantiles, REDIS_URL, ROOT, round, seedEvents, sleep, runBench } from './lib';

const int = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const CFG = {
  events: int('BENCH_REPORT_EVENTS', 1_000_000),
  runs: int('BENCH_REPORT_RUNS', 20),
  warmups: 3,
  chargeEvents: int('BENCH_CHARGE_EVENTS', 20_000),
  chargeBatch: 500,
  month: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
  targets: { report_ms: 200, invoice_ms: 5000 },
};
const STAMP = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
const DB_NAME = `tollgate_bench_reports_${STAMP}_${process.pid}`.toLowerCase();
const PREFIX = `tollgate-bench-reports-${STAMP}-${process.pid}`;
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const TENANT = '00000000-0000-4000-8000-00000000b001';
const OTHER_TENANT = '00000000-0000-4000-8000-00000000b002';

let DATABASE_URL = '';
let db: Client;
let service: ChildProcess | null = null;
let serviceExited: Promise<unknown> = Promise.resolve();
let serviceOut = '';
let baseUrl = '';

// ---------------------------------------------------------------------------------------------
// Seed

async function seed() {
  const n = CFG.events;
  const spanMs = Date.parse(CFG.month.to) - Date.parse(CFG.month.from);
  await db.query(`
    INSERT INTO models (id, provider) VALUES ('bench-a', 'simulated'), ('bench-b', 'simulated'), ('bench-c', 'simulated');
    INSERT INTO prices (id, model_id, input_price, cached_input_price, output_price, effective_from) VALUES
      ('00000000-0000-4000-8000-0000000000a1', 'bench-a', 0.25, 0.025, 2, '2020-01-01'),
      ('00000000-0000-4000-8000-0000000000a2', 'bench-a', 0.3, 0.07, 2.400000001, '2026-01-15'),
      ('00000000-0000-4000-8000-0000000000b1', 'bench-b', 1.1, 0.11, 4.4, '2020-01-01'),
      ('00000000-0000-4000-8000-0000000000c1', 'bench-c', 0.000000001, 0.0000000001, 0.000000003, '2020-01-01');
    INSERT INTO tenants (id, name, balance) VALUES ('${TENANT}', 'bench-reports', 0), ('${OTHER_TENANT}', 'bench-other', 0);
    INSERT INTO api_keys (id, tenant_id, name, hash, prefix)
      SELECT ('00000000-0000-4000-8000-0000000000' || lpad(k::text, 2, '0'))::uuid, '${TENANT}', 'bench-' || k, md5('bench-key-' || k), 'sk-tg-bench' || k
        FROM generate_series(1, 5) k;
    INSERT INTO api_keys (id, tenant_id, name, hash, prefix) VALUES ('00000000-0000-4000-8000-000000000099', '${OTHER_TENANT}', 'other', md5('other'), 'sk-tg-other');`);
  log(`seeding ${n} usage events over January 2026`);
  let t0 = performance.now();
  // Varied usage: cached and reasoning tokens on some events, so every part of the formula runs.
  await db.query(
    `INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                               reasoning_tokens, requested_at, created_at, charged_at)
     SELECT md5('bench-e' || i)::uuid, $1::uuid, ('00000000-0000-4000-8000-0000000000' || lpad((1 + i % 5)::text, 2, '0'))::uuid,
            'resp_bench_' || i, (ARRAY['bench-a', 'bench-b', 'bench-c'])[1 + i % 3],
            100 + i % 900, (i % 7) * 10, 16 + i % 48, (i % 3) * 5, at, at, at + interval '1 second'
       FROM generate_series(0, $2::int - 1) i, LATERAL (SELECT $3::timestamptz + (i::float8 * $4::float8) * interval '1 millisecond' AS at) x`,
    [TENANT, n, CFG.month.from, spanMs / n],
  );
  const eventsMs = performance.now() - t0;
  log(`charging them (one INSERT of ${n} ledger entries; the trigger fills the rollups)`);
  t0 = performance.now();
  // Exact charges as ChargerService writes them: the price version in force at requested_at, the
  // breakdown (uncached input, cached input, visible output, reasoning) and amount = -(their sum).
  // Multiplying by 0.000001 keeps numeric arithmetic exact.
  await db.query(
    `INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after, usage_event_id, response_id, price_id,
                                 input_cost, cached_input_cost, output_cost, reasoning_cost, created_at)
     SELECT md5('bench-l' || e.id)::uuid, e.tenant_id, 'charge', -(c.i + c.ci + c.o + c.r), 0, e.id, e.response_id, p.id,
            c.i, c.ci, c.o, c.r, e.charged_at
       FROM usage_events e
       CROSS JOIN LATERAL (SELECT * FROM prices p WHERE p.model_id = e.model AND p.effective_from <= e.requested_at
                            ORDER BY p.effective_from DESC LIMIT 1) p
       CROSS JOIN LATERAL (SELECT (e.input_tokens - e.cached_tokens) * p.input_price * 0.000001 AS i,
                                  e.cached_tokens * p.cached_input_price * 0.000001 AS ci,
                                  (e.output_tokens - e.reasoning_tokens) * p.output_price * 0.000001 AS o,
                                  e.reasoning_tokens * p.output_price * 0.000001 AS r) c
      WHERE e.tenant_id = $1`,
    [TENANT],
  );
  const chargesMs = performance.now() - t0;
  await db.query(`UPDATE tenants SET balance = (SELECT sum(amount) FROM ledger_entries WHERE tenant_id = $1) WHERE id = $1`, [TENANT]);
  t0 = performance.now();
  await db.query('VACUUM ANALYZE usage_events');
  await db.query('VACUUM ANALYZE ledger_entries');
  await db.query('VACUUM ANALYZE usage_rollups');
  const analyzeMs = performance.now() - t0;
  const sizes = (
    await db.query(`SELECT (SELECT count(*)::int FROM usage_rollups) AS rollup_rows,
                           pg_size_pretty(pg_total_relation_size('usage_events')) AS usage_events_size,
                           pg_size_pretty(pg_total_relation_size('ledger_entries')) AS ledger_size,
                           pg_size_pretty(pg_total_relation_size('usage_rollups')) AS rollups_size`)
  ).rows[0];
  return { events: n, insert_events_ms: Math.round(eventsMs), insert_charges_with_trigger_ms: Math.round(chargesMs), vacuum_analyze_ms: Math.round(analyzeMs), ...sizes };
}

// ---------------------------------------------------------------------------------------------
// The service

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

async function startService() {
  const port = await freePort();
  service = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ROLE: 'all', DATABASE_URL, REDIS_URL, QUEUE_PREFIX: PREFIX, ADMIN_TOKEN, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serviceExited = new Promise((r) => service!.once('exit', r));
  const keep = (c: Buffer) => (serviceOut = (serviceOut + c.toString()).slice(-20_000));
  service.stdout!.on('data', keep);
  service.stderr!.on('data', keep);
  baseUrl = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (service.exitCode !== null || service.signalCode !== null) throw new Error(`service exited:\n${serviceOut}`);
    const ok = await fetch(`${baseUrl}/ready`).then((r) => r.ok).catch(() => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`service not ready:\n${serviceOut}`);
    await sleep(100);
  }
}

async function stopService() {
  if (!service || service.exitCode !== null || service.signalCode !== null) return;
  service.kill('SIGTERM');
  if (!(await Promise.race([serviceExited.then(() => true), sleep(15_000).then(() => false)]))) {
    service.kill('SIGKILL');
    await serviceExited;
  }
}

async function admin(method: string, pathname: string, body?: unknown) {
  const res = await fetch(baseUrl + pathname, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
  return { text, json: () => JSON.parse(text) };
}

// ---------------------------------------------------------------------------------------------
// Measurements

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const [p50, p95] = quantiles(sorted, [0.5, 0.95]);
  return { p50_ms: round(p50), p95_ms: round(p95), max_ms: round(sorted[sorted.length - 1]), runs: samples.length };
}

async function timeReport(query: string) {
  const samples: number[] = [];
  let last = '';
  for (let i = 0; i < CFG.warmups + CFG.runs; i++) {
    const t0 = performance.now();
    const res = await admin('GET', `/admin/usage?${query}`);
    const ms = performance.now() - t0;
    if (i >= CFG.warmups) samples.push(ms);
    last = res.text;
  }
  return { ...stats(samples), response_bytes: last.length, body: last };
}

async function timeSql(sql: string, params: unknown[], runs = 3) {
  const samples: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    await db.query(sql, params);
    if (i > 0) samples.push(performance.now() - t0);
  }
  return stats(samples);
}

async function ledgerTotal(from: string, to: string) {
  const { rows } = await db.query(
    `SELECT coalesce(sum(-l.amount), 0)::text AS total FROM ledger_entries l JOIN usage_events e ON e.id = l.usage_event_id
      WHERE l.kind = 'charge' AND e.tenant_id = $1 AND e.created_at >= $2 AND e.created_at < $3`,
    [TENANT, from, to],
  );
  return addAmounts(rows[0].total);
}

async function timeInvoice(from: string, to: string) {
  const t0 = performance.now();
  const created = (await admin('POST', '/admin/invoices', { tenant_id: TENANT, period_start: from, period_end: to })).json();
  for (;;) {
    const inv = (await admin('GET', `/admin/invoices/${created.id}`)).json();
    if (inv.status === 'ready') {
      const ms = performance.now() - t0;
      const pdfT0 = performance.now();
      const pdf = await fetch(`${baseUrl}/admin/invoices/${created.id}/export?format=pdf`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const pdfBytes = (await pdf.arrayBuffer()).byteLength;
      const pdfMs = performance.now() - pdfT0;
      const ledger = await ledgerTotal(from, to);
      const linesSum = addAmounts('0', ...inv.lines.map((l: any) => l.amount));
      return {
        ready_ms: Math.round(ms),
        lines: inv.lines.length,
        charges: inv.charges,
        total: inv.total,
        total_rounded: inv.total_rounded,
        total_equals_ledger: inv.total === ledger,
        lines_add_up: linesSum === inv.total,
        pdf_ms: Math.round(pdfMs),
        pdf_bytes: pdfBytes,
      };
    }
    if (inv.status === 'failed') throw new Error(`invoice failed: ${inv.error}`);
    if (performance.now() - t0 > 120_000) throw new Error('invoice not ready after 120 s');
    await sleep(20);
  }
}

/** An instance of an injectable class with its constructor dependencies built the same way. */
function make<T>(cls: new (...args: any[]) => T, known: Map<unknown, unknown>): T {
  const types: Array<new (...args: any[]) => unknown> = Reflect.getMetadata('design:paramtypes', cls) ?? [];
  return new cls(...types.map((t) => (known.has(t) ? known.get(t) : make(t, known))));
}

/** ChargerService.chargeEvents in batches, on fresh events, with the rollup trigger on or off. */
async function chargeOverhead() {
  const env = Object.assign(new Env(), { DATABASE_URL });
  const prisma = new PrismaService(env);
  const charger = make(ChargerService, new Map<unknown, unknown>([[PrismaService, prisma], [Env, env]]));
  const out: Record<string, unknown> = {};
  try {
    for (const mode of ['trigger_on', 'trigger_off', 'trigger_on_again']) {
      const { ids } = await seedEvents(db, 'bench-charge', CFG.chargeEvents, `charge-${mode}`);
      await db.query(`ALTER TABLE ledger_entries ${mode === 'trigger_off' ? 'DISABLE' : 'ENABLE'} TRIGGER ledger_entries_usage_rollups`);
      const batches: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < ids.length; i += CFG.chargeBatch) {
        const b0 = performance.now();
        await charger.chargeEvents(ids.slice(i, i + CFG.chargeBatch));
        batches.push(performance.now() - b0);
      }
      const wall = performance.now() - t0;
      out[mode] = { charges_per_s: Math.round(ids.length / (wall / 1000)), batch: stats(batches) };
    }
  } finally {
    await db.query('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_usage_rollups');
    await prisma.$disconnect();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function table(rows: Array<[string, unknown]>) {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n');
}

async function cleanup() {
  await stopService().catch(() => undefined);
  await db?.end().catch(() => undefined);
  if (DATABASE_URL && !process.env.BENCH_KEEP_DB) await dropDatabase(DATABASE_URL).catch((e) => log(`drop database: ${e?.message ?? e}`));
  await deleteRedisKeys(PREFIX).catch(() => undefined);
}

async function main() {
  log(`database ${DB_NAME}, queue prefix ${PREFIX}`);
  DATABASE_URL = createDatabase(DB_NAME);
  db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const result: Record<string, unknown> = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, mem_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    postgres: (await db.query('SHOW server_version')).rows[0].server_version,
    config: CFG,
  };
  result.seed = await seed();
  log(`seeded: ${JSON.stringify(result.seed)}`);
  await startService();

  const { from, to } = CFG.month;
  const month = `tenant_id=${TENANT}&from=${from}&to=${to}`;
  const variants: Array<[string, string]> = [
    ['no group_by (one total row)', month],
    ['group_by=model', `${month}&group_by=model`],
    ['group_by=day', `${month}&group_by=day`],
    ['group_by=api_key', `${month}&group_by=api_key`],
    ['group_by=model,day', `${month}&group_by=model,day`],
    ['group_by=model,day,api_key', `${month}&group_by=model,day,api_key`],
    ['group_by=model,day,api_key csv', `${month}&group_by=model,day,api_key&format=csv`],
    ['partial hours (10:17 .. 15:43), model', `tenant_id=${TENANT}&from=2026-01-03T10:17:00Z&to=2026-01-28T15:43:00Z&group_by=model`],
    ['all tenants, group_by=tenant,model', `from=${from}&to=${to}&group_by=tenant,model`],
    ['all time, one tenant, group_by=day', `tenant_id=${TENANT}&group_by=day`],
  ];
  const reports: Record<string, unknown> = {};
  const ledgerMonth = await ledgerTotal(from, to);
  for (const [name, query] of variants) {
    log(`report: ${name}`);
    const { body, ...timing } = await timeReport(query);
    // Every variant but the CSV and the partial range covers exactly the month's charges.
    const reconciles = query.includes('format=csv') || query.includes('2026-01-03') ? undefined : JSON.parse(body).totals.cost === ledgerMonth;
    reports[name] = { ...timing, ...(reconciles !== undefined ? { cost_equals_ledger: reconciles } : {}) };
  }
  result.reports = reports;
  log('baseline: the same aggregation as a plain join (no rollups)');
  result.plain_join_group_by_model = await timeSql(
    `SELECT e.model, count(*), sum(e.input_tokens), sum(e.cached_tokens), sum(e.output_tokens), sum(e.reasoning_tokens), sum(-l.amount)
       FROM usage_events e LEFT JOIN ledger_entries l ON l.usage_event_id = e.id
      WHERE e.tenant_id = $1 AND e.created_at >= $2 AND e.created_at < $3 GROUP BY e.model`,
    [TENANT, from, to],
  );

  log('invoice for the month');
  result.invoice_month = await timeInvoice(from, to);
  log('invoice for a period with partial hours');
  result.invoice_partial = await timeInvoice('2026-01-03T10:17:00Z', '2026-01-28T15:43:00Z');
  await stopService();

  log(`charging ${CFG.chargeEvents} events x3 with the rollup trigger on / off / on`);
  result.charging = await chargeOverhead();

  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `reports-${STAMP}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

  const seedR = result.seed as any;
  const rows: Array<[string, unknown]> = [
    ['seed', `${seedR.events} events (${seedR.usage_events_size}), charges (${seedR.ledger_size}), ${seedR.rollup_rows} rollup rows (${seedR.rollups_size})`],
    ['seed times', `events ${seedR.insert_events_ms} ms, charges + trigger ${seedR.insert_charges_with_trigger_ms} ms, vacuum/analyze ${seedR.vacuum_analyze_ms} ms`],
    ...Object.entries(reports).map(([name, r]: [string, any]): [string, unknown] => [
      `report: ${name}`,
      `p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms, max ${r.max_ms} ms (${r.response_bytes} B)${r.cost_equals_ledger !== undefined ? `, cost = ledger: ${r.cost_equals_ledger}` : ''}`,
    ]),
    ['plain join, group_by=model (SQL only)', `p50 ${(result.plain_join_group_by_model as any).p50_ms} ms`],
  ];
  for (const key of ['invoice_month', 'invoice_partial']) {
    const inv = result[key] as any;
    rows.push([
      key.replace('_', ': '),
      `ready in ${inv.ready_ms} ms, ${inv.lines} lines, ${inv.charges} charges, total ${inv.total} (${inv.total_rounded}); = ledger: ${inv.total_equals_ledger}, lines add up: ${inv.lines_add_up}; PDF ${inv.pdf_bytes} B in ${inv.pdf_ms} ms`,
    ]);
  }
  for (const [mode, r] of Object.entries(result.charging as Record<string, any>)) {
    rows.push([`charging, ${mode.replace(/_/g, ' ')}`, `${r.charges_per_s} charges/s, batch of ${CFG.chargeBatch}: p50 ${r.batch.p50_ms} ms, p95 ${r.batch.p95_ms} ms`]);
  }
  rows.push(['targets', `report < ${CFG.targets.report_ms} ms, invoice < ${CFG.targets.invoice_ms} ms`]);
  console.log(`\nTollgate reports bench (${os.cpus().length} cores, ${process.version}, Postgres ${result.postgres})\n${table(rows)}\n\nwritten ${path.relative(ROOT, file)}`);
}

runBench(main, cleanup);
