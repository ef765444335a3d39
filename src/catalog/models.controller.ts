import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/auth.guards';
import { CatalogService } from './catalog.service';

/** GET /v1/models: the models a tenant can call (those with a price in force). */
@ApiTags('models')
@ApiBearerAuth()
@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiOperation({ summary: 'List the models this tenant can call' })
  async list() {
    const models = await this.catalog.listModels();
    return {
      object: 'list',
      data: models
        .filter((m) => m.price)
        .map((m) => ({ id: m.id, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: m.provider })),
    };
  }
}
