import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { CatalogModule } from '../catalog/catalog.module';
import { ProvidersModule } from '../providers/providers.module';
import { BillingModule } from '../billing/billing.module';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { AdminModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { TenantPricesController } from './tenant-prices.controller';
import { TenantPricesService } from './tenant-prices.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

/** The admin API (/admin/*, AdminGuard): tenants, credits and ledger, API keys, models and prices, tenants' price books. */
@Module({
  imports: [BillingModule, CatalogModule, ProvidersModule, AuthModule, AuditModule],
  controllers: [TenantsController, TenantPricesController, ApiKeysController, AdminModelsController],
  providers: [TenantsService, TenantPricesService, ApiKeysService, ModelsService],
})
export class AdminModule {}
