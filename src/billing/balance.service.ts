import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import { PgPool } from '../prisma/pg-pool.service';
import { periodReset, periodStart } from './budget-period';
import { Clock } from './clock';
import { periodSpend } from './key-spend.repository';
import { tenantMoney } from './ledger.repository';
import { addAmounts, formatAmount, maxAmount, negate } from './money';

/** What GET /v1/balance answers: the tenant's money and the calling key's budget in its current period. */
@Injectable()
export class BalanceService {
  constructor(
    private readonly pg: PgPool,
    private readonly clock: Clock,
  ) {}

  async view(auth: TenantAuth) {
    const now = this.clock.now();
    const [t, spend] = await Promise.all([
      tenantMoney(this.pg, auth.tenantId),
      auth.budget ? periodSpend(this.pg, auth.apiKeyId, periodStart(auth.budget.period, now)) : null,
    ]);
    // The key's tenant cannot go: tenants are never deleted.
    if (!t) throw new Error(`tenant ${auth.tenantId} of key ${auth.apiKeyId} not found`);
    const balance = formatAmount(t.balance);
    const reserved = formatAmount(t.reserved);
    const creditLimit = formatAmount(t.creditLimit);
    return {
      object: 'balance' as const,
      balance,
      reserved,
      credit_limit: creditLimit,
      available: addAmounts(balance, negate(reserved), creditLimit),
      currency: 'USD' as const,
      budget: auth.budget ? this.budget(auth.budget, spend?.spent ?? '0', spend?.reserved ?? '0', now) : null,
    };
  }

  private budget(budget: NonNullable<TenantAuth['budget']>, spent: string, reserved: string, now: Date) {
    const resetsAt = periodReset(budget.period, now);
    return {
      limit: formatAmount(budget.limit),
      period: budget.period,
      spent: formatAmount(spent),
      reserved: formatAmount(reserved),
      remaining: maxAmount('0', addAmounts(budget.limit, negate(spent), negate(reserved))),
      resets_at: resetsAt ? resetsAt.toISOString() : null,
    };
  }
}
