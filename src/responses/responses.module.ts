import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BillingModule } from '../billing/billing.module';
import { CatalogModule } from '../catalog/catalog.module';
import { MeteringModule } from '../metering/metering.module';
import { ProvidersModule } from '../providers/providers.module';
import { RateLimitModule } from '../ratelimit/ratelimit.module';
import { ResponseStore } from './response-store';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({
  imports: [AuthModule, BillingModule, CatalogModule, MeteringModule, ProvidersModule, RateLimitModule],
  controllers: [ResponsesController], providers: [ResponsesService, ResponseStore], exports: [ResponsesService] })
export class ResponsesModule {}
