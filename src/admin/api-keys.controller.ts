import { Body, Controller, Delete, Get, Param, Post, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../auth/auth.guards';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/api-key.dto';

@Controller('admin')
@UseGuards(AdminGuard)
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post('tenants/:id/api-keys')
  create(@Param('id') tenantId: string, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(tenantId, dto);
  }

  @Get('tenants/:id/api-keys')
  list(@Param('id') tenantId: string) {
    return this.keys.list(tenantId);
  }

  @Delete('api-keys/:id')
  revoke(@Param('id') id: string) {
    return this.keys.revoke(id);
  }
}
