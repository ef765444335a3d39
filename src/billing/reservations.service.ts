import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors';
import { newUuid } from '../common/ids';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';

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
@Injectable()
export class ReservationsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  /** Returns the reservation id, or throws 429 insufficient_quota. */
  async reserve(tenantId: string, amount: string): Promise<string> {
    const id = newUuid();
    const expiresAt = new Date(Date.now() + RESERVATION_TTL_MS);
    const rows = await this.prisma.$queryRaw<Array<{ id: string }>>`
      WITH held AS (
        UPDATE tenants SET reserved = reserved + ${amount}::numeric
         WHERE id = ${tenantId}::uuid AND balance - reserved >= ${amount}::numeric
        RETURNING id
      )
      INSERT INTO reservations (id, tenant_id, amount, expires_at)
      SELECT ${id}::uuid, held.id, ${amount}::numeric, ${expiresAt} FROM held
      RETURNING id`;
    if (!rows.length) {
      this.metrics.reservationRefusals.inc();
      throw insufficientQuota();
    }
    return id;
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
