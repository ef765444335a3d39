import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors';
import { newUuid } from '../common/ids';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { addAmounts } from './money';

/** How long a reservation outlives a request that never reported back (a crashed process). */
export const RESERVATION_TTL_MS = 15 * 60 * 1000;

export const insufficientQuota = () =>
  new ApiError(
    429,
    'You exceeded your current quota: the balance left cannot cover this request. Add credits to continue.',
    'insufficient_quota',
    'insufficient_quota',
    null,
    { 'x-should-retry': 'false' },
  );

/**
 * Holds a request's maximum cost against the tenant's balance before the model runs, in one
 * atomic statement: the tenant row is updated only if balance - reserved still covers it, so
 * concurrent requests can never together reserve more than the balance.
 */
interface PendingReservation {
  tenantId: string;
  amount: string;
  id: string;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

@Injectable()
export class ReservationsService {
  private pending: PendingReservation[] = [];
  private scheduled = false;

  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Returns the reservation id, or throws 429 insufficient_quota. Reservations asked for in the
   * same moment are grouped per tenant and held in one statement when the balance covers them all;
   * when it does not, they are decided one by one, in order, so the outcome is the same as if each
   * had come alone.
   */
  reserve(tenantId: string, amount: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pending.push({ tenantId, amount, id: newUuid(), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    this.scheduled = false;
    const byTenant = new Map<string, PendingReservation[]>();
    for (const p of this.pending) byTenant.set(p.tenantId, [...(byTenant.get(p.tenantId) ?? []), p]);
    this.pending = [];
    for (const [tenantId, group] of byTenant) void this.reserveGroup(tenantId, group);
  }

  private async reserveGroup(tenantId: string, group: PendingReservation[]) {
    try {
      if (group.length > 1 && (await this.hold(tenantId, group))) {
        group.forEach((p) => p.resolve(p.id));
        return;
      }
      for (const p of group) {
        if (await this.hold(tenantId, [p])) p.resolve(p.id);
        else {
          this.metrics.reservationRefusals.inc();
          p.reject(insufficientQuota());
        }
      }
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }

  /** Holds all of `group` against the balance in one atomic statement, or none of it. */
  private async hold(tenantId: string, group: PendingReservation[]): Promise<boolean> {
    const total = addAmounts(...group.map((p) => p.amount));
    const expiresAt = new Date(Date.now() + RESERVATION_TTL_MS);
    const rows = await this.prisma.$queryRaw<Array<{ id: string }>>`
      WITH held AS (
        UPDATE tenants SET reserved = reserved + ${total}::numeric
         WHERE id = ${tenantId}::uuid AND balance - reserved >= ${total}::numeric
        RETURNING id
      )
      INSERT INTO reservations (id, tenant_id, amount, expires_at)
      SELECT r.id, held.id, r.amount, ${expiresAt} FROM held,
             unnest(${group.map((p) => p.id)}::uuid[], ${group.map((p) => p.amount)}::numeric[]) AS r(id, amount)
      RETURNING id`;
    return rows.length === group.length;
  }

  /** Gives a reservation back (the request failed before it was answered). Idempotent. */
  async release(id: string): Promise<void> {
    await this.prisma.$executeRaw`
      WITH gone AS (DELETE FROM reservations WHERE id = ${id}::uuid RETURNING tenant_id, amount)
      UPDATE tenants t SET reserved = t.reserved - gone.amount FROM gone WHERE t.id = gone.tenant_id`;
  }

  /**
   * Releases expired reservations whose request never wrote a usage event (its process died).
   * Reservations of answered requests are released by their charge instead.
   */
  async releaseExpired(now = new Date()): Promise<number> {
    return this.prisma.$executeRaw`
      WITH gone AS (
        DELETE FROM reservations r
         WHERE r.expires_at < ${now}
           AND NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.reservation_id = r.id)
        RETURNING tenant_id, amount
      ), per_tenant AS (SELECT tenant_id, sum(amount) AS amount FROM gone GROUP BY tenant_id)
      UPDATE tenants t SET reserved = t.reserved - p.amount FROM per_tenant p WHERE t.id = p.tenant_id`;
  }
}
