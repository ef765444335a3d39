import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import { PrismaService } from '../prisma/prisma.service';
import { periodReset, periodStart } from './budget-period';
import { Clock } from './clock';
import { addAmounts, formatAmount, maxAmount, negate } from './money';

/** What GET /v1/balance answers: the tenant's money and the calling key's budget in its current period. */
@Injectable()
export class BalanceService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  async view(auth: TenantAuth) {
    const now = this.clock.now();
    const [t, spend] = await Promise.all([
      this.prisma.tenant.findUniqueOrThrow({ where: { id: auth.tenantId }, select: { balance: true, reserved: true, creditLimit: true } }),
      auth.budget
        ? this.prisma.keySpend.findUnique({
            where: { apiKeyId_periodStart: { apiKeyId: auth.apiKeyId, periodStart: periodStart(auth.budget.period, now) } },
            select: { spent: true, reserved: true },
          })
        : null,
    ]);
    const balance = t.balance.toFixed();
    const reserved = t.reserved.toFixed();
    const creditLimit = t.creditLimit.toFixed();
    return {
      object: 'balance' as const,
      balance,
      reserved,
      credit_limit: creditLimit,
      available: addAmounts(balance, negate(reserved), creditLimit),
      currency: 'USD' as const,
      budget: auth.budget ? this.budget(auth.budget, spend?.spent.toFixed() ?? '0', spend?.reserved.toFixed() ?? '0', now) : null,
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
