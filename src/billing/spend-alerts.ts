import { Injectable, Logger } from '@nestjs/common';
import type { LedgerTx } from './ledger.service';

/** A tenant's balance went from at or above its low_balance_threshold to below it, with a charge. */
export interface LowBalanceFact {
  tenantId: string;
  balance: string;
  available: string;
  threshold: string;
}

/** A key's charges in a budget period reached 80% or 100% of its limit, the first time that period. */
export interface BudgetThresholdFact {
  tenantId: string;
  apiKeyId: string;
  percent: 80 | 100;
  limit: string;
  spent: string;
  periodStart: Date;
  resetsAt: Date | null;
}

/**
 * Where the charge transaction hands over the spend facts it found, inside that transaction (so an
 * outbox row written here commits or rolls back with the charge). Nothing is sent from here yet.
 */
@Injectable()
export class SpendAlerts {
  private readonly logger = new Logger(SpendAlerts.name);

  lowBalance(_tx: LedgerTx, facts: LowBalanceFact[]): Promise<void> {
    for (const f of facts) this.logger.debug(`balance.low: tenant ${f.tenantId} balance ${f.balance} below ${f.threshold}`);
    return Promise.resolve();
  }

  budgetThreshold(_tx: LedgerTx, facts: BudgetThresholdFact[]): Promise<void> {
    for (const f of facts) this.logger.debug(`budget.threshold: key ${f.apiKeyId} reached ${f.percent}% (${f.spent} of ${f.limit})`);
    return Promise.resolve();
  }
}
