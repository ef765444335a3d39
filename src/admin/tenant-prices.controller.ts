import { Body, Get, Param, Put } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { AdminController } from './admin-controller';
import { PutTenantPriceDto } from './dto/tenant-price.dto';
import { TenantPricesService } from './tenant-prices.service';

@AdminController('admin/tenants', 'tenant price books')
export class TenantPricesController {
  constructor(private readonly prices: TenantPricesService) {}

  @Put(':id/prices/:model')
  @ApiOperation({ summary: "Add a tenant's own price version for a model (charges use it from effective_from on, else the model's price)" })
  put(@Param('id') id: string, @Param('model') model: string, @Body() dto: PutTenantPriceDto) {
    return this.prices.put(id, model, dto);
  }

  @Get(':id/prices')
  @ApiOperation({ summary: "The tenant's price versions" })
  list(@Param('id') id: string) {
    return this.prices.list(id);
  }
}
