/**
 * Where does a charge's time go? Separate measurements of the pieces the charge worker is made of,
 * each on its own freshly seeded events (one tenant, as in bench:metering's phase (a)):
 *
 *   bullmq-noop      BullMQ alone: a Worker (concurrency 256, the charge processor's options) whose
 *                    processor does nothing -> the queue's own ceiling in jobs/s on this machine.
 *   service@B        ChargerService.chargeEvents (the real code), batches of B, one after another.
 *   prisma-steps@B   The same transaction, copied with a timer around each statement.
 *   prisma-unnest@B  The same, with createMany replaced by one INSERT ... SELECT FROM unnest(...).
 *   pg-unnest@B      The same statements on a plain `pg` client (no Prisma), INSERT via unnest.
 *   replica(...)     The worker's pipeline in this process: a BullMQ Worker (the processor's options)
 *                    feeding the real ChargeBatcher, charging with the real ChargerService or with
 *                    the unnest variant above -> what the proposed change would give end to end.
 *
 * Run after `npm run build` (nothing of dist is used, but the Prisma client must be generated):
 *   node -r ./bench/register.js bench/charge-breakdown.ts   (BREAKDOWN_EVENTS=20000 by default)
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { addAmounts } from '../src/billing/money';
import { PriceVersion, toPriceVersion } from '../src/catalog/catalog.service';
import { Env } from '../src/config/env';
import { LedgerKind, Prisma } from '../src/generated/prisma/client';
import { assignBalancesAfter, PendingEvent, planCharges, PlannedCharge } from '../src/metering/charge-plan';
import { ChargeBatcher } from '../src/metering/charge-batcher';
import { CHARGE_CONCURRENCY } from '../src/metering/charge.processor';
import { ChargerService } from '../src/metering/charger.service';
import { PrismaService } from '../src/prisma/prisma.service';
import { CHARGE_JOB_OPTIONS, JOBS, QUEUES } from '../src/queues/queues';
import { createDatabase, cpuSeconds, deleteRedisKeys, dropDatabase, isPostgres, ledgerCheck, log, REDIS_URL, ROOT, round, seedEvents } from './lib';

const N = Number(process.env.BREAKDOWN_EVENTS ?? 20_000);
const STAMP = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
const DB_NAME = `tollgate_bench_${STAMP}_${process.pid}_breakdown`;
const PREFIX = `tollgate-bench-${STAMP}-${process.pid}-breakdown`;
const MODEL = 'bench-sim';

let db: Client;

/**
 * An instance of an injectable class with its constructor dependencies made the same way (Nest's
 * design:paramtypes metadata), `known` ones (the Prisma client) given: the service as its module
 * would build it, whatever its constructor takes today.
 */
function make<T>(cls: new (...args: any[]) => T, known: Map<unknown, unknown>): T {
  const types: Array<new (...args: any[]) => unknown> = Reflect.getMetadata('design:paramtypes', cls) ?? [];
  return new cls(...types.map((t) => (known.has(t) ? known.get(t) : make(t, known))));
}

/** Runs `fn`, returning wall time, this process's CPU and Postgres' CPU over it. */
async function measured<T>(fn: () => Promise<T>) {
  const cpu0 = process.cpuUsage();
  const pg0 = cpuSeconds(isPostgres);
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, pgCpuMs: (cpuSeconds(isPostgres) - pg0) * 1000 };
}

function report(name: string, events: number, m: { wallMs: number; cpuMs: number; pgCpuMs: number }, extra: Record<string, unknown> = {}) {
  const row = {
    name,
    events,
    events_per_s: Math.round(events / (m.wallMs / 1000)),
    wall_ms: Math.round(m.wallMs),
    node_cpu_us_per_event: round((m.cpuMs * 1000) / events, 0),
    postgres_cpu_us_per_event: round((m.pgCpuMs * 1000) / events, 0),
    // What one saturated Node core could do if only this process's CPU counted.
    node_cpu_bound_events_per_s: Math.round(events / (m.cpuMs / 1000)),
    ...extra,
  };
  log(`${name}: ${row.events_per_s} events/s, node ${row.node_cpu_us_per_event} us/event, postgres ${row.postgres_cpu_us_per_event} us/event`);
  return row;
}

// ---------------------------------------------------------------------------------------------

async function bullmqNoop() {
  const prefix = `${PREFIX}-noop`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.charges, { connection, prefix, defaultJobOptions: CHARGE_JOB_OPTIONS });
  const ids = Array.from({ length: N }, (_, i) => `noop-${i}`);
  for (let i = 0; i < ids.length; i += 5000) {
    await queue.addBulk(ids.slice(i, i + 5000).map((id) => ({ name: JOBS.charge, data: { usageEventId: id }, opts: { jobId: id } })));
  }
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const m = await measured(async () => {
    const worker = new Worker(
      QUEUES.charges,
      async () => {
        if (++done === N) finish();
      },
      { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 256, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 100 },
    );
    await all;
    // Let the last completions reach Redis before closing.
    await worker.close();
  });
  const redisCpuNote = 'redis CPU not split out here; see bench:metering (a)';
  await queue.close();
  await connection.quit();
  return report('bullmq-noop (concurrency 256)', N, m, { note: redisCpuNote });
}

// ---------------------------------------------------------------------------------------------

async function serviceBatches(prisma: PrismaService, batch: number) {
  const { tenantId, ids } = await seedEvents(db, MODEL, N, `svc${batch}`);
  const charger = make(ChargerService, new Map([[PrismaService, prisma]]));
  const m = await measured(async () => {
    for (let i = 0; i < ids.length; i += batch) await charger.chargeEvents(ids.slice(i, i + batch));
  });
  return report(`service@${batch}`, N, m, { check: await ledgerCheck(db, tenantId) });
}

type Step = 'select_for_update' | 'prices' | 'delete_reservations' | 'update_tenant' | 'insert_ledger' | 'mark_charged' | 'plan' | 'begin_commit';

/** ChargerService.chargeEvents, statement for statement, with a timer on each. */
async function prismaStepsBatch(prisma: PrismaService, ids: string[], insert: 'createMany' | 'unnest', steps: Map<Step, number>) {
  const t = (step: Step, since: number) => steps.set(step, (steps.get(step) ?? 0) + performance.now() - since);
  const t0 = performance.now();
  let inside = 0;
  await prisma.$transaction(async (tx) => {
    const tIn = performance.now();
    let s = performance.now();
    const events = await tx.$queryRaw<Array<PendingEvent & { reservationId: string | null }>>`
      SELECT id, tenant_id AS "tenantId", response_id AS "responseId", model,
             input_tokens AS "inputTokens", cached_tokens AS "cachedTokens",
             output_tokens AS "outputTokens", reasoning_tokens AS "reasoningTokens",
             requested_at AS "requestedAt", reservation_id AS "reservationId"
        FROM usage_events
       WHERE id = ANY(${ids}::uuid[]) AND charged_at IS NULL
       ORDER BY id
         FOR UPDATE SKIP LOCKED`;
    t('select_for_update', s);
    s = performance.now();
    const models = [...new Set(events.map((e) => e.model))];
    const versions = (await tx.price.findMany({ where: { modelId: { in: models } } })).map(toPriceVersion);
    t('prices', s);
    s = performance.now();
    const { planned, totals } = planCharges(events, versions);
    t('plan', s);
    s = performance.now();
    const reservationIds = events.flatMap((e) => (e.reservationId ? [e.reservationId] : []));
    const released = new Map<string, string>();
    const rows = await tx.$queryRaw<Array<{ tenantId: string; amount: Prisma.Decimal }>>`
      DELETE FROM reservations WHERE id = ANY(${reservationIds}::uuid[]) RETURNING tenant_id AS "tenantId", amount`;
    for (const r of rows) released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount.toFixed()));
    t('delete_reservations', s);
    s = performance.now();
    const byTenant = new Map<string, PlannedCharge[]>();
    for (const p of planned) byTenant.set(p.event.tenantId, [...(byTenant.get(p.event.tenantId) ?? []), p]);
    for (const tenantId of [...byTenant.keys()].sort()) {
      const [{ balance }] = await tx.$queryRaw<Array<{ balance: Prisma.Decimal }>>`
        UPDATE tenants SET balance = balance - ${totals.get(tenantId)}::numeric,
                           reserved = reserved - ${released.get(tenantId) ?? '0'}::numeric
         WHERE id = ${tenantId}::uuid RETURNING balance`;
      assignBalancesAfter(byTenant.get(tenantId)!, balance.toFixed());
    }
    t('update_tenant', s);
    s = performance.now();
    if (insert === 'createMany') {
      await tx.ledgerEntry.createMany({
        data: planned.map((p) => ({
          tenantId: p.event.tenantId,
          kind: LedgerKind.charge,
          amount: `-${p.charge.total}`,
          balanceAfter: p.balanceAfter!,
          usageEventId: p.event.id,
          responseId: p.event.responseId,
          priceId: p.price.id,
          inputCost: p.charge.input,
          cachedInputCost: p.charge.cachedInput,
          outputCost: p.charge.output,
          reasoningCost: p.charge.reasoning,
        })),
      });
    } else {
      const col = <T>(f: (p: PlannedCharge) => T) => planned.map(f);
      await tx.$executeRaw`
        INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after, usage_event_id, response_id, price_id,
                                    input_cost, cached_input_cost, output_cost, reasoning_cost)
        SELECT gen_random_uuid(), tenant_id, 'charge', amount, balance_after, usage_event_id, response_id, price_id,
               input_cost, cached_input_cost, output_cost, reasoning_cost
          FROM unnest(${col((p) => p.event.tenantId)}::uuid[], ${col((p) => `-${p.charge.total}`)}::numeric[],
                      ${col((p) => p.balanceAfter!)}::numeric[], ${col((p) => p.event.id)}::uuid[], ${col((p) => p.event.responseId)}::text[],
                      ${col((p) => p.price.id)}::uuid[], ${col((p) => p.charge.input)}::numeric[], ${col((p) => p.charge.cachedInput)}::numeric[],
                      ${col((p) => p.charge.output)}::numeric[], ${col((p) => p.charge.reasoning)}::numeric[])
               AS u(tenant_id, amount, balance_after, usage_event_id, response_id, price_id, input_cost, cached_input_cost, output_cost, reasoning_cost)`;
    }
    t('insert_ledger', s);
    s = performance.now();
    const charged = planned.map((p) => p.event.id);
    await tx.$executeRaw`UPDATE usage_events SET charged_at = now() WHERE id = ANY(${charged}::uuid[])`;
    t('mark_charged', s);
    inside = performance.now() - tIn;
  });
  steps.set('begin_commit', (steps.get('begin_commit') ?? 0) + (performance.now() - t0 - inside));
}

async function prismaSteps(prisma: PrismaService, batch: number, insert: 'createMany' | 'unnest') {
  const { tenantId, ids } = await seedEvents(db, MODEL, N, `ps${insert}${batch}`);
  const steps = new Map<Step, number>();
  const m = await measured(async () => {
    for (let i = 0; i < ids.length; i += batch) await prismaStepsBatch(prisma, ids.slice(i, i + batch), insert, steps);
  });
  const batches = Math.ceil(N / batch);
  const perBatch = Object.fromEntries([...steps].map(([k, ms]) => [k, round(ms / batches, 2)]));
  return report(`prisma-${insert === 'createMany' ? 'steps' : 'unnest'}@${batch}`, N, m, {
    wall_ms_per_batch_by_step: perBatch,
    check: await ledgerCheck(db, tenantId),
  });
}

// ---------------------------------------------------------------------------------------------

async function pgBatch(client: Client, ids: string[], versionsCache: { v: PriceVersion[] | null }) {
  await client.query('BEGIN');
  try {
    const events = (
      await client.query(
        `SELECT id, tenant_id AS "tenantId", response_id AS "responseId", model,
                input_tokens AS "inputTokens", cached_tokens AS "cachedTokens",
                output_tokens AS "outputTokens", reasoning_tokens AS "reasoningTokens",
                requested_at AS "requestedAt", reservation_id AS "reservationId"
           FROM usage_events WHERE id = ANY($1::uuid[]) AND charged_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`,
        [ids],
      )
    ).rows as Array<PendingEvent & { reservationId: string | null }>;
    const models = [...new Set(events.map((e) => e.model))];
    const versions = (
      await client.query(
        `SELECT id, model_id AS "modelId", input_price::text AS input, cached_input_price::text AS "cachedInput",
                output_price::text AS output, effective_from AS "effectiveFrom" FROM prices WHERE model_id = ANY($1)`,
        [models],
      )
    ).rows as PriceVersion[];
    versionsCache.v = versions;
    const { planned, totals } = planCharges(events, versions);
    const reservationIds = events.flatMap((e) => (e.reservationId ? [e.reservationId] : []));
    const released = new Map<string, string>();
    const rows = (
      await client.query(`DELETE FROM reservations WHERE id = ANY($1::uuid[]) RETURNING tenant_id AS "tenantId", amount::text AS amount`, [reservationIds])
    ).rows;
    for (const r of rows) released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount));
    const byTenant = new Map<string, PlannedCharge[]>();
    for (const p of planned) byTenant.set(p.event.tenantId, [...(byTenant.get(p.event.tenantId) ?? []), p]);
    for (const tenantId of [...byTenant.keys()].sort()) {
      const { balance } = (
        await client.query(
          `UPDATE tenants SET balance = balance - $2::numeric, reserved = reserved - $3::numeric WHERE id = $1 RETURNING balance::text AS balance`,
          [tenantId, totals.get(tenantId), released.get(tenantId) ?? '0'],
        )
      ).rows[0];
      assignBalancesAfter(byTenant.get(tenantId)!, balance);
    }
    const col = <T>(f: (p: PlannedCharge) => T) => planned.map(f);
    await client.query(
      `INSERT INTO ledger_entries (id, tenant_id, kind, amount, balance_after, usage_event_id, response_id, price_id,
                                   input_cost, cached_input_cost, output_cost, reasoning_cost)
       SELECT gen_random_uuid(), tenant_id, 'charge', amount, balance_after, usage_event_id, response_id, price_id,
              input_cost, cached_input_cost, output_cost, reasoning_cost
         FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $4::uuid[], $5::text[], $6::uuid[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[])
              AS u(tenant_id, amount, balance_after, usage_event_id, response_id, price_id, input_cost, cached_input_cost, output_cost, reasoning_cost)`,
      [
        col((p) => p.event.tenantId),
        col((p) => `-${p.charge.total}`),
        col((p) => p.balanceAfter!),
        col((p) => p.event.id),
        col((p) => p.event.responseId),
        col((p) => p.price.id),
        col((p) => p.charge.input),
        col((p) => p.charge.cachedInput),
        col((p) => p.charge.output),
        col((p) => p.charge.reasoning),
      ],
    );
    await client.query(`UPDATE usage_events SET charged_at = now() WHERE id = ANY($1::uuid[])`, [planned.map((p) => p.event.id)]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

async function pgUnnest(url: string, batch: number) {
  const { tenantId, ids } = await seedEvents(db, MODEL, N, `pg${batch}`);
  const client = new Client({ connectionString: url });
  await client.connect();
  const cache = { v: null as PriceVersion[] | null };
  const m = await measured(async () => {
    for (let i = 0; i < ids.length; i += batch) await pgBatch(client, ids.slice(i, i + batch), cache);
  });
  await client.end();
  return report(`pg-unnest@${batch}`, N, m, { check: await ledgerCheck(db, tenantId) });
}

// ---------------------------------------------------------------------------------------------

async function replica(prisma: PrismaService, charge: 'service' | 'unnest', concurrency: number) {
  const tag = `rep${charge}${concurrency}`;
  const { tenantId, ids } = await seedEvents(db, MODEL, N, tag);
  const prefix = `${PREFIX}-${tag}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.charges, { connection, prefix, defaultJobOptions: CHARGE_JOB_OPTIONS });
  for (let i = 0; i < ids.length; i += 5000) {
    await queue.addBulk(ids.slice(i, i + 5000).map((id) => ({ name: JOBS.charge, data: { usageEventId: id }, opts: { jobId: id } })));
  }
  const service = make(ChargerService, new Map([[PrismaService, prisma]]));
  const steps = new Map<Step, number>();
  const charger = {
    chargeEvents: (batch: string[]) => (charge === 'service' ? service.chargeEvents(batch) : prismaStepsBatch(prisma, batch, 'unnest', steps)),
  };
  const batcher = make(ChargeBatcher, new Map<unknown, unknown>([[ChargerService, charger]]));
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const m = await measured(async () => {
    const worker = new Worker<{ usageEventId: string }>(
      QUEUES.charges,
      async (job) => {
        await batcher.charge(job.data.usageEventId);
        if (++done === N) finish();
      },
      { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 100 },
    );
    await all;
    await worker.close();
  });
  await queue.close();
  await connection.quit();
  const name = `replica(bullmq + ChargeBatcher + ${charge === 'service' ? 'ChargerService' : 'unnest insert'}, concurrency ${concurrency})`;
  return report(name, N, m, { check: await ledgerCheck(db, tenantId) });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  log(`database ${DB_NAME}`);
  const url = createDatabase(DB_NAME);
  db = new Client({ connectionString: url });
  await db.connect();
  const prisma = new PrismaService(Object.assign(new Env(), { DATABASE_URL: url }));
  const rows: unknown[] = [];
  try {
    rows.push(await bullmqNoop());
    // Warm Prisma (connection pool, query compiler) on a small set first.
    const warm = await seedEvents(db, MODEL, 2000, 'warm');
    const charger = make(ChargerService, new Map([[PrismaService, prisma]]));
    for (let i = 0; i < warm.ids.length; i += 100) await charger.chargeEvents(warm.ids.slice(i, i + 100));
    for (const batch of [80, 256, 500]) rows.push(await serviceBatches(prisma, batch));
    rows.push(await prismaSteps(prisma, 80, 'createMany'));
    rows.push(await prismaSteps(prisma, 256, 'createMany'));
    rows.push(await prismaSteps(prisma, 80, 'unnest'));
    rows.push(await prismaSteps(prisma, 256, 'unnest'));
    rows.push(await pgUnnest(url, 80));
    rows.push(await pgUnnest(url, 256));
    rows.push(await replica(prisma, 'service', CHARGE_CONCURRENCY));
    rows.push(await replica(prisma, 'unnest', CHARGE_CONCURRENCY));
    rows.push(await replica(prisma, 'unnest', 1000));
  } finally {
    await prisma.$disconnect();
    await db.end();
    if (!process.env.BENCH_KEEP_DB) await dropDatabase(url);
    await deleteRedisKeys(PREFIX);
  }
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `charge-breakdown-${STAMP}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), events_per_case: N, rows }, null, 2) + '\n');
  console.log(JSON.stringify(rows, null, 2));
  console.log(`written ${path.relative(ROOT, file)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  },
);
