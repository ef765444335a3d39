import { Global, Module } from '@nestjs/common';
import { LedgerService } from './ledger.service';

/** Money: the ledger (balances and their entries). Global so metering can charge through it. */
@Global()
@Module({ providers: [LedgerService], exports: [LedgerService] })
export class BillingModule {}
