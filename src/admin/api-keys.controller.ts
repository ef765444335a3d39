import { Body, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { AdminController } from './admin-controller';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto, UpdateApiKeyDto } from './dto/api-key.dto';

@AdminController('admin', 'api keys')
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

  @Patch('api-keys/:id')
  update(@Param('id') id: string, @Body() dto: UpdateApiKeyDto) {
    return this.keys.update(id, dto);
  }

  @Delete('api-keys/:id')
  revoke(@Param('id') id: string) {
    return this.keys.revoke(id);
  }
}
