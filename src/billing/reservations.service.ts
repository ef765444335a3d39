import { Injectable, Logger } from '@nestjs/common';
import { sqlStateOf } from '../common/db-errors';
import { DomainError, ErrorCode } from '../common/errors';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PgPool } from '../prisma/pg-pool.service';
import { BudgetPeriod, periodReset, periodStart, secondsUntilReset } from './budget-period';
import { Clock } from './clock';
import type { UnsafeSqlClient } from '../common/sql/sql-client';
import type { PlannedCharge } from './charge-plan';
import { moveIntoBudgets } from './key-spend.repository';
import { addAmounts } from './money';
import {
  AdmissionHold,
  deleteReservations,
  holdAdmissions,
  interruptExpiredLeases,
  KeyHold,
  REFUSED_BY_BALANCE,
  REFUSED_BY_BUDGET,
  releaseOrphanReservations,
  withdrawAdmission,
  withdrawExpiredLeases,
} from './reservations.repository';
import { SpendAlerts } from './spend-alerts';

export const insufficientQuota = () =>
  new DomainError(ErrorCode.InsufficientQuota, 'You exceeded your current quota: the balance left cannot cover this request. Add credits to continue.');

const PERIOD_WORD: Record<BudgetPeriod, string> = { day: 'daily', week: 'weekly', month: 'monthly', total: 'total' };

export const budgetExceeded = (period: BudgetPeriod, now: Date) => {
  const retryAfter = secondsUntilReset(period, now);
  return new DomainError(
    ErrorCode.BudgetExceeded,
    `This API key reached its ${PERIOD_WORD[period]} budget: what is left of it cannot cover this request.` +
      (retryAfter === null ? '' : ` The budget resets at ${periodReset(period, now)!.toISOString()}.`),
    retryAfter === null ? {} : { retryAfterSeconds: retryAfter },
  );
};

type HoldOutcome = 'held' | 'budget' | 'balance';

/** Most admissions held in one statement. */
const MAX_GROUP = 256;

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
  /** Tenants with an admission statement in flight, each with the admissions waiting for the next one. */
  private readonly queued = new Map<string, PendingAdmission[]>();

  constructor(
    private readonly pg: PgPool,
    private readonly metrics: MetricsService,
    private readonly env: Env,
    private readonly clock: Clock,
    private readonly alerts: SpendAlerts,
  ) {}

  /**
   * Resolves once the request is admitted, or throws 429 insufficient_quota. Admissions asked for
   * in the same moment, or while the tenant's previous statement runs, are grouped per tenant and
   * held in one statement when the balance covers them all; when it does not, they are decided
   * one by one, in order, so the outcome is the same as if each had come alone.
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
    for (const [tenantId, group] of byTenant) {
      const queue = this.queued.get(tenantId);
      if (queue) queue.push(...group);
      else {
        this.queued.set(tenantId, group);
        this.runNext(tenantId);
      }
    }
  }

  /**
   * One admission statement per tenant in flight: each holder keeps the tenant's row locked until
   * it commits, so a second statement would only wait on that lock (with a connection taken).
   * What arrives meanwhile waits in the tenant's queue and goes in the next statement, together.
   */
  private runNext(tenantId: string) {
    const queue = this.queued.get(tenantId)!;
    if (!queue.length) {
      this.queued.delete(tenantId);
      return;
    }
    const group = queue.splice(0, MAX_GROUP);
    void this.admitGroup(tenantId, group).finally(() => this.runNext(tenantId));
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
    const total = addAmounts(...a.map((x) => x.amount));
    const holds: AdmissionHold[] = a.map((x) => ({
      ...x,
      budgetKeyId: x.budget ? x.apiKeyId : null,
      budgetPeriodStart: x.budget ? periodStart(x.budget.period, now) : null,
    }));
    const perKey = new Map<string, KeyHold>();
    for (const h of holds) {
      if (!h.budgetKeyId) continue;
      const held = perKey.get(h.budgetKeyId);
      perKey.set(h.budgetKeyId, { apiKeyId: h.budgetKeyId, periodStart: h.budgetPeriodStart!, amount: addAmounts(held?.amount ?? '0', h.amount) });
    }
    // Sorted, so two statements lock the same key rows in the same order.
    const keyHolds = [...perKey.values()].sort((x, y) => (x.apiKeyId < y.apiKeyId ? -1 : 1));
    try {
      const row = await holdAdmissions(this.pg, tenantId, total, this.env.REQUEST_LEASE_MS, holds, keyHolds);
      if (row.admitted === group.length) return 'held';
      return row.keysHeld < keyHolds.length ? 'budget' : 'balance';
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
    await withdrawAdmission(this.pg, reservationId);
  }

  /**
   * Deletes the reservations of requests being charged, inside the charge's transaction, moves
   * each budget key's hold into its period spend (the exact charge in, the hold out), hands the
   * budget thresholds first reached to SpendAlerts, and returns what the reservations held per
   * tenant (appendCharges takes it off `reserved` with the charge).
   */
  async takeWithin(tx: UnsafeSqlClient, planned: PlannedCharge[]): Promise<Map<string, string>> {
    const released = new Map<string, string>();
    const chargeOf = new Map(planned.flatMap((p) => (p.event.reservationId ? [[p.event.reservationId, p.charge.total] as const] : [])));
    if (!chargeOf.size) return released;
    const rows = await deleteReservations(tx, [...chargeOf.keys()]);
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
    const interrupted = await interruptExpiredLeases(this.pg);
    const withdrawn = await withdrawExpiredLeases(this.pg);
    if (interrupted.length || withdrawn) {
      this.logger.warn(`leases expired: ${interrupted.length} requests interrupted (charged from their checkpoint), ${withdrawn} tenants' holds withdrawn`);
    }
    return interrupted;
  }

  /** Frees reservations that have no usage event at all (written before events were made at admission). */
  async releaseOrphans(): Promise<number> {
    return releaseOrphanReservations(this.pg);
  }
}
