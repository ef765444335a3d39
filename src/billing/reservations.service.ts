import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/errors';
import { sqlStateOf } from '../common/db-errors';
import { Prisma } from '../generated/prisma/client';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { BudgetPeriod, periodReset, periodStart, secondsUntilReset } from './budget-period';
import { Clock } from './clock';
import type { LedgerTx } from './ledger.service';
import type { PlannedCharge } from './charge-plan';
import { moveIntoBudgets } from './key-spend';
import { addAmounts } from './money';
import { SpendAlerts } from './spend-alerts';

export const insufficientQuota = () =>
  new ApiError(
    429,
    'You exceeded your current quota: the balance left cannot cover this request. Add credits to continue.',
    'insufficient_quota',
    'insufficient_quota',
    null,
    { 'x-should-retry': 'false' },
  );

const PERIOD_WORD: Record<BudgetPeriod, string> = { day: 'daily', week: 'weekly', month: 'monthly', total: 'total' };

export const budgetExceeded = (period: BudgetPeriod, now: Date) => {
  const retryAfter = secondsUntilReset(period, now);
  return new ApiError(
    429,
    `This API key reached its ${PERIOD_WORD[period]} budget: what is left of it cannot cover this request.` +
      (retryAfter === null ? '' : ` The budget resets at ${periodReset(period, now)!.toISOString()}.`),
    'insufficient_quota',
    'budget_exceeded',
    null,
    { 'x-should-retry': 'false', ...(retryAfter !== null && { 'retry-after': String(retryAfter) }) },
  );
};

/** What the admission statement raises to undo itself when budget holds went in but the balance hold did not. */
const REFUSED_BY_BUDGET = 'TGB29';
const REFUSED_BY_BALANCE = 'TGQ29';

type HoldOutcome = 'held' | 'budget' | 'balance';

/**
 * One admitted request: the most it can cost, held against the tenant's balance, and the pending
 * usage event that stands for it from admission on (price version fixed, bounds recorded, leased
 * to the process running it). Whatever happens to that process, the event is there to be
 * finished: by the request itself, by its spool, or by the relay when the lease runs out.
 */
export interface Admission {
  tenantId: string;
  apiKeyId: string;
  amount: string;
  reservationId: string;
  usageEventId: string;
  responseId: string;
  model: string;
  priceId: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  requestedAt: Date;
  /** The key's budget period, when the key has a budget: the amount is also held against its period spend. */
  budget?: { period: BudgetPeriod } | null;
}

interface PendingAdmission {
  admission: Admission;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Holds a request's maximum cost against the tenant's balance before the model runs, in one
 * atomic statement: the tenant row is updated only if balance - reserved + credit_limit still
 * covers it, and, for a key with a budget, the key's period spend only if spent + reserved stays
 * within the limit, so concurrent requests can never together reserve more than either.
 */
@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly batch = new TickBatch<PendingAdmission>((batch) => this.flush(batch));

  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
    private readonly env: Env,
    private readonly clock: Clock,
    private readonly alerts: SpendAlerts,
  ) {}

  /**
   * Resolves once the request is admitted, or throws 429 insufficient_quota. Admissions asked for
   * in the same moment are grouped per tenant and held in one statement when the balance covers
   * them all; when it does not, they are decided one by one, in order, so the outcome is the same
   * as if each had come alone.
   */
  admit(admission: Admission): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ admission, resolve, reject });
    });
  }

  private flush(batch: PendingAdmission[]) {
    const byTenant = new Map<string, PendingAdmission[]>();
    for (const p of batch) {
      const group = byTenant.get(p.admission.tenantId);
      if (group) group.push(p);
      else byTenant.set(p.admission.tenantId, [p]);
    }
    for (const [tenantId, group] of byTenant) void this.admitGroup(tenantId, group);
  }

  private async admitGroup(tenantId: string, group: PendingAdmission[]) {
    try {
      const now = this.clock.now();
      if (group.length > 1 && (await this.hold(tenantId, group, now)) === 'held') {
        group.forEach((p) => p.resolve());
        return;
      }
      for (const p of group) {
        const outcome = await this.hold(tenantId, [p], now);
        if (outcome === 'held') p.resolve();
        else {
          this.metrics.reservationRefusals.inc();
          p.reject(outcome === 'budget' ? budgetExceeded(p.admission.budget!.period, now) : insufficientQuota());
        }
      }
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }

  /**
   * Holds all of `group` against the balance (and each budget key's period spend), with their
   * pending usage events, in one statement, or none of it. The budget holds are upserts whose
   * condition is checked on the latest row; the balance hold runs only when they all went in, and
   * when it does not, the statement raises so the budget holds go too.
   */
  private async hold(tenantId: string, group: PendingAdmission[], now: Date): Promise<HoldOutcome> {
    const a = group.map((p) => p.admission);
    const col = <T>(f: (x: Admission) => T) => a.map(f);
    const total = addAmounts(...col((x) => x.amount));
    const lease = `${this.env.REQUEST_LEASE_MS} milliseconds`;
    const budgetStart = (x: Admission) => (x.budget ? periodStart(x.budget.period, now) : null);
    const perKey = new Map<string, { start: Date; amount: string }>();
    for (const x of a) {
      if (!x.budget) continue;
      const held = perKey.get(x.apiKeyId);
      perKey.set(x.apiKeyId, { start: budgetStart(x)!, amount: addAmounts(held?.amount ?? '0', x.amount) });
    }
    // Sorted, so two statements lock the same key rows in the same order.
    const keys = [...perKey.keys()].sort();
    try {
      const [row] = await this.prisma.$queryRaw<Array<{ admitted: number; keysHeld: number }>>`
        WITH key_held AS (
          INSERT INTO key_spend AS s (api_key_id, period_start, reserved)
          SELECT k.id, k.period_start, k.amount
            FROM unnest(${keys}::uuid[], ${keys.map((k) => perKey.get(k)!.start)}::timestamptz[],
                        ${keys.map((k) => perKey.get(k)!.amount)}::numeric[]) WITH ORDINALITY AS k(id, period_start, amount, n)
            JOIN api_keys ak ON ak.id = k.id
           WHERE ak.budget_limit IS NULL OR k.amount <= ak.budget_limit
           ORDER BY k.n
          ON CONFLICT (api_key_id, period_start) DO UPDATE SET reserved = s.reserved + EXCLUDED.reserved
           WHERE s.spent + s.reserved + EXCLUDED.reserved
                 <= COALESCE((SELECT budget_limit FROM api_keys WHERE id = s.api_key_id), s.spent + s.reserved + EXCLUDED.reserved)
          RETURNING s.api_key_id
        ), held AS (
          UPDATE tenants SET reserved = reserved + ${total}::numeric
           WHERE id = ${tenantId}::uuid AND balance - reserved + credit_limit >= ${total}::numeric
             AND (SELECT count(*) FROM key_held) = ${keys.length}
          RETURNING id
        ), reservation AS (
          INSERT INTO reservations (id, tenant_id, amount, expires_at, budget_key_id, budget_period_start)
          SELECT r.id, held.id, r.amount, now() + ${lease}::interval, r.budget_key_id, r.budget_period_start FROM held,
                 unnest(${col((x) => x.reservationId)}::uuid[], ${col((x) => x.amount)}::numeric[],
                        ${col((x) => (x.budget ? x.apiKeyId : null))}::uuid[], ${col(budgetStart)}::timestamptz[])
                 AS r(id, amount, budget_key_id, budget_period_start)
        ), events AS (
          INSERT INTO usage_events (id, tenant_id, api_key_id, response_id, model, input_tokens, cached_tokens, output_tokens,
                                    reasoning_tokens, requested_at, reservation_id, state, price_id, max_input_tokens,
                                    max_output_tokens, lease_expires_at)
          SELECT u.id, held.id, u.api_key_id, u.response_id, u.model, 0, 0, 0, 0, u.requested_at, u.reservation_id, 'pending',
                 u.price_id, u.max_input, u.max_output, now() + ${lease}::interval
            FROM held, unnest(${col((x) => x.usageEventId)}::uuid[], ${col((x) => x.apiKeyId)}::uuid[],
                              ${col((x) => x.responseId)}::text[], ${col((x) => x.model)}::text[],
                              ${col((x) => x.requestedAt)}::timestamptz[], ${col((x) => x.reservationId)}::uuid[],
                              ${col((x) => x.priceId)}::uuid[], ${col((x) => x.maxInputTokens)}::int[],
                              ${col((x) => x.maxOutputTokens)}::int[])
                 AS u(id, api_key_id, response_id, model, requested_at, reservation_id, price_id, max_input, max_output)
          RETURNING id
        )
        SELECT (SELECT count(*) FROM events)::int AS admitted, (SELECT count(*) FROM key_held)::int AS "keysHeld",
               CASE WHEN NOT EXISTS (SELECT 1 FROM held) AND EXISTS (SELECT 1 FROM key_held)
                    THEN admission_refused(CASE WHEN (SELECT count(*) FROM key_held) = ${keys.length} THEN ${REFUSED_BY_BALANCE} ELSE ${REFUSED_BY_BUDGET} END)
               END AS undone`;
      if (row.admitted === group.length) return 'held';
      return row.keysHeld < keys.length ? 'budget' : 'balance';
    } catch (err) {
      const state = sqlStateOf(err);
      if (state === REFUSED_BY_BUDGET) return 'budget';
      if (state === REFUSED_BY_BALANCE) return 'balance';
      throw err;
    }
  }

  /**
   * Withdraws an admission whose request ended before anything was answered: its pending usage
   * event goes, and the hold is given back (to the balance and to the key's budget period).
   * Idempotent; an event already finished is left alone (its charge releases the hold).
   */
  async withdraw(reservationId: string): Promise<void> {
    // The key spend row is updated before the tenant row (the count forces it), the order admissions lock them in.
    await this.prisma.$executeRaw`
      WITH event AS (
        DELETE FROM usage_events WHERE reservation_id = ${reservationId}::uuid AND state = 'pending' RETURNING reservation_id
      ), gone AS (
        DELETE FROM reservations r USING event WHERE r.id = event.reservation_id
        RETURNING r.tenant_id, r.amount, r.budget_key_id, r.budget_period_start
      ), budget AS (
        UPDATE key_spend s SET reserved = s.reserved - gone.amount FROM gone
         WHERE s.api_key_id = gone.budget_key_id AND s.period_start = gone.budget_period_start RETURNING 1
      )
      UPDATE tenants t SET reserved = t.reserved - gone.amount FROM gone
       WHERE t.id = gone.tenant_id AND (SELECT count(*) FROM budget) >= 0`;
  }

  /**
   * Deletes the reservations of requests being charged, inside the charge's transaction, moves
   * each budget key's hold into its period spend (the exact charge in, the hold out), hands the
   * budget thresholds first reached to SpendAlerts, and returns what the reservations held per
   * tenant (appendCharges takes it off `reserved` with the charge).
   */
  async takeWithin(tx: LedgerTx, planned: PlannedCharge[]): Promise<Map<string, string>> {
    const released = new Map<string, string>();
    const chargeOf = new Map(planned.flatMap((p) => (p.event.reservationId ? [[p.event.reservationId, p.charge.total] as const] : [])));
    if (!chargeOf.size) return released;
    const rows = await tx.$queryRaw<Array<{ id: string; tenantId: string; amount: string; budgetKeyId: string | null; budgetPeriodStart: Date | null }>>`
      DELETE FROM reservations WHERE id = ANY(${[...chargeOf.keys()]}::uuid[])
      RETURNING id, tenant_id AS "tenantId", amount::text AS amount, budget_key_id AS "budgetKeyId", budget_period_start AS "budgetPeriodStart"`;
    const budgets = new Map<string, { apiKeyId: string; periodStart: Date; held: string; charged: string }>();
    for (const r of rows) {
      released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount));
      if (!r.budgetKeyId || !r.budgetPeriodStart) continue;
      const key = `${r.budgetKeyId} ${r.budgetPeriodStart.toISOString()}`;
      const b = budgets.get(key) ?? { apiKeyId: r.budgetKeyId, periodStart: r.budgetPeriodStart, held: '0', charged: '0' };
      budgets.set(key, { ...b, held: addAmounts(b.held, r.amount), charged: addAmounts(b.charged, chargeOf.get(r.id)!) });
    }
    if (budgets.size) {
      const facts = await moveIntoBudgets(tx, [...budgets.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([, b]) => b));
      if (facts.length) await this.alerts.budgetThreshold(tx, facts);
    }
    return released;
  }

  /**
   * The relay's pass over requests whose process stopped renewing them: a request with progress
   * on record becomes `interrupted` (charged from its last checkpoint); one without any is
   * withdrawn (nothing is known to have been produced). Returns the interrupted event ids.
   */
  async settleExpiredLeases(): Promise<string[]> {
    const interrupted = await this.prisma.$queryRaw<Array<{ id: string }>>`
      UPDATE usage_events SET state = 'interrupted', lease_expires_at = NULL
       WHERE state = 'pending' AND lease_expires_at < now() AND checkpointed_at IS NOT NULL
      RETURNING id`;
    const withdrawn = await this.prisma.$executeRaw`
      WITH event AS (
        DELETE FROM usage_events
         WHERE state = 'pending' AND lease_expires_at < now() AND checkpointed_at IS NULL
        RETURNING reservation_id
      ), gone AS (
        DELETE FROM reservations r USING event WHERE r.id = event.reservation_id
        RETURNING r.tenant_id, r.amount, r.budget_key_id, r.budget_period_start
      ), ${this.givenBackToBudgetsAndTenants}`;
    if (interrupted.length || withdrawn) {
      this.logger.warn(`leases expired: ${interrupted.length} requests interrupted (charged from their checkpoint), ${withdrawn} tenants' holds withdrawn`);
    }
    return interrupted.map((r) => r.id);
  }

  /** The tail of a statement whose CTE `gone` returned deleted reservations: their holds go back, key periods first. */
  private readonly givenBackToBudgetsAndTenants = Prisma.sql`
      per_key AS (
        SELECT budget_key_id, budget_period_start, sum(amount) AS amount FROM gone WHERE budget_key_id IS NOT NULL GROUP BY 1, 2
      ), budget AS (
        UPDATE key_spend s SET reserved = s.reserved - p.amount FROM per_key p
         WHERE s.api_key_id = p.budget_key_id AND s.period_start = p.budget_period_start RETURNING 1
      ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
      UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p
       WHERE t.id = p.tenant_id AND (SELECT count(*) FROM budget) >= 0`;

  /** Frees reservations that have no usage event at all (written before events were made at admission). */
  async releaseOrphans(): Promise<number> {
    return this.prisma.$executeRaw`
      WITH gone AS (
        DELETE FROM reservations r
         WHERE r.expires_at < now()
           AND NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.reservation_id = r.id)
        RETURNING tenant_id, amount, budget_key_id, budget_period_start
      ), ${this.givenBackToBudgetsAndTenants}`;
  }
}
