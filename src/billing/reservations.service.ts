import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/errors';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import type { LedgerTx } from './ledger.service';
import { addAmounts } from './money';
import {
  deleteReservations,
  holdAdmissions,
  interruptExpiredLeases,
  releaseOrphanReservations,
  withdrawAdmission,
  withdrawExpiredLeases,
} from './reservations.repository';

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
    return holdAdmissions(this.prisma, tenantId, addAmounts(...a.map((x) => x.amount)), this.env.REQUEST_LEASE_MS, a);
  }

  /**
   * Withdraws an admission whose request ended before anything was answered: its pending usage
   * event goes, and the hold is given back. Idempotent; an event already finished is left alone
   * (its charge releases the hold).
   */
  async withdraw(reservationId: string): Promise<void> {
    await withdrawAdmission(this.prisma, reservationId);
  }

  /**
   * Deletes the reservations of requests being charged, inside the charge's transaction, and
   * returns what they held per tenant (appendCharges takes it off `reserved` with the charge).
   */
  async takeWithin(tx: LedgerTx, reservationIds: string[]): Promise<Map<string, string>> {
    const released = new Map<string, string>();
    if (!reservationIds.length) return released;
    const rows = await deleteReservations(tx, reservationIds);
    for (const r of rows) released.set(r.tenantId, addAmounts(released.get(r.tenantId) ?? '0', r.amount));
    return released;
  }

  /**
   * The relay's pass over requests whose process stopped renewing them: a request with progress
   * on record becomes `interrupted` (charged from its last checkpoint); one without any is
   * withdrawn (nothing is known to have been produced). Returns the interrupted event ids.
   */
  async settleExpiredLeases(): Promise<string[]> {
    const interrupted = await interruptExpiredLeases(this.prisma);
    const withdrawn = await withdrawExpiredLeases(this.prisma);
    if (interrupted.length || withdrawn) {
      this.logger.warn(`leases expired: ${interrupted.length} requests interrupted (charged from their checkpoint), ${withdrawn} tenants' holds withdrawn`);
    }
    return interrupted;
  }

  /** Frees reservations that have no usage event at all (written before events were made at admission). */
  async releaseOrphans(): Promise<number> {
    return releaseOrphanReservations(this.prisma);
  }
}
