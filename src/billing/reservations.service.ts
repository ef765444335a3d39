import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/errors';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import type { LedgerTx } from './ledger.service';
import { addAmounts } from './money';

export const insufficientQuota = () =>
  new DomainError(ErrorCode.InsufficientQuota, 'You exceeded your current quota: the balance left cannot cover this request. Add credits to continue.');

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
}

interface PendingAdmission {
  admission: Admission;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Holds a request's maximum cost against the tenant's balance before the model runs, in one
 * atomic statement: the tenant row is updated only if balance - reserved still covers it, so
 * concurrent requests can never together reserve more than the balance.
 */
@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly batch = new TickBatch<PendingAdmission>((batch) => this.flush(batch));

  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
    private readonly env: Env,
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
      if (group.length > 1 && (await this.hold(tenantId, group))) {
        group.forEach((p) => p.resolve());
        return;
      }
      for (const p of group) {
        if (await this.hold(tenantId, [p])) p.resolve();
        else {
          this.metrics.reservationRefusals.inc();
          p.reject(insufficientQuota());
        }
      }
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }

  /** Holds all of `group` against the balance, with their pending usage events, in one statement, or none of it. */
  private async hold(tenantId: string, group: PendingAdmission[]): Promise<boolean> {
    const a = group.map((p) => p.admission);
    const col = <T>(f: (x: Admission) => T) => a.map(f);
    const total = addAmounts(...col((x) => x.amount));
    const lease = `${this.env.REQUEST_LEASE_MS} milliseconds`;
    const rows = await this.prisma.$queryRaw<Array<{ id: string }>>`
      WITH held AS (
        UPDATE tenants SET reserved = reserved + ${total}::numeric
         WHERE id = ${tenantId}::uuid AND balance - reserved >= ${total}::numeric
        RETURNING id
      ), reservation AS (
        INSERT INTO reservations (id, tenant_id, amount, expires_at)
        SELECT r.id, held.id, r.amount, now() + ${lease}::interval FROM held,
               unnest(${col((x) => x.reservationId)}::uuid[], ${col((x) => x.amount)}::numeric[]) AS r(id, amount)
      )
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
      RETURNING id`;
    return rows.length === group.length;
  }

  /**
   * Withdraws an admission whose request ended before anything was answered: its pending usage
   * event goes, and the hold is given back. Idempotent; an event already finished is left alone
   * (its charge releases the hold).
   */
  async withdraw(reservationId: string): Promise<void> {
    await this.prisma.$executeRaw`
      WITH event AS (
        DELETE FROM usage_events WHERE reservation_id = ${reservationId}::uuid AND state = 'pending' RETURNING reservation_id
      ), gone AS (
        DELETE FROM reservations r USING event WHERE r.id = event.reservation_id RETURNING r.tenant_id, r.amount
      )
      UPDATE tenants t SET reserved = t.reserved - gone.amount FROM gone WHERE t.id = gone.tenant_id`;
  }

  /**
   * Deletes the reservations of requests being charged, inside the charge's transaction, and
   * returns what they held per tenant (appendCharges takes it off `reserved` with the charge).
   */
  async takeWithin(tx: LedgerTx, reservationIds: string[]): Promise<Map<string, string>> {
    const released = new Map<string, string>();
    if (!reservationIds.length) return released;
    const rows = await tx.$queryRaw<Array<{ tenantId: string; amount: string }>>`
      DELETE FROM reservations WHERE id = ANY(${reservationIds}::uuid[]) RETURNING tenant_id AS "tenantId", amount::text AS amount`;
    for (const r of rows) released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount));
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
        DELETE FROM reservations r USING event WHERE r.id = event.reservation_id RETURNING r.tenant_id, r.amount
      ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
      UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p WHERE t.id = p.tenant_id`;
    if (interrupted.length || withdrawn) {
      this.logger.warn(`leases expired: ${interrupted.length} requests interrupted (charged from their checkpoint), ${withdrawn} tenants' holds withdrawn`);
    }
    return interrupted.map((r) => r.id);
  }

  /** Frees reservations that have no usage event at all (written before events were made at admission). */
  async releaseOrphans(): Promise<number> {
    return this.prisma.$executeRaw`
      WITH gone AS (
        DELETE FROM reservations r
         WHERE r.expires_at < now()
           AND NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.reservation_id = r.id)
        RETURNING tenant_id, amount
      ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
      UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p WHERE t.id = p.tenant_id`;
  }
}
