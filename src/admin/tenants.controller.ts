import { Body, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { AdminController } from './admin-controller';
import { CreateTenantDto, CreditDto, LedgerQueryDto, UpdateTenantDto } from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

@AdminController('admin/tenants', 'tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  create(@Body() dto: CreateTenantDto) {
    return this.tenants.create(dto);
  }

  @Get()
  list() {
    return this.tenants.list();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.tenants.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateTenantDto) {
    return this.tenants.update(id, dto);
  }

  @Post(':id/credits')
  credit(@Param('id') id: string, @Body() dto: CreditDto) {
    return this.tenants.credit(id, dto);
  }

  @Get(':id/ledger')
  ledger(@Param('id') id: string, @Query() query: LedgerQueryDto) {
    return this.tenants.ledgerPage(id, query);
  }
}
