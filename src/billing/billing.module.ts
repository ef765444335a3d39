import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BalanceController } from './balance.controller';
import { LedgerService } from './ledger.service';
import { ReservationsService } from './reservations.service';

/** Money: the ledger (balances and their entries) and the reservations held against balances. */
@Module({
  imports: [AuthModule],
  controllers: [BalanceController],
  providers: [LedgerService, ReservationsService],
  exports: [LedgerService, ReservationsService],
})
export class BillingModule {}
