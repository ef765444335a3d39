import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { WebhookDispatchModule } from '../webhooks/webhooks.module';
import { BalanceController } from './balance.controller';
import { BalanceService } from './balance.service';
import { Clock } from './clock';
import { LedgerService } from './ledger.service';
import { ReservationsService } from './reservations.service';
import { SpendAlerts } from './spend-alerts';

/** Money: the ledger (balances and their entries) and the reservations held against balances. */
@Module({
  imports: [AuthModule, WebhookDispatchModule],
  controllers: [BalanceController],
  providers: [LedgerService, ReservationsService, Clock, SpendAlerts, BalanceService],
  exports: [LedgerService, ReservationsService, Clock, SpendAlerts],
})
export class BillingModule {}
