import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentTenant, modelAllowed, TenantAuth } from '../auth/auth.guards';
import { DomainError, ErrorCode } from '../common/errors';
import { CatalogService, PricedModel } from './catalog.service';

/** The OpenAI `model` object. */
const toModelObject = (m: PricedModel) => ({ id: m.id, object: 'model' as const, created: Math.floor(m.createdAt.getTime() / 1000), owned_by: m.provider });

const modelNotFound = (id: string) =>
  new DomainError(ErrorCode.ModelNotFound, `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });

/** GET /v1/models and /v1/models/:id: the models a tenant can call (those with a price in force, on the key's allow-list if it has one). */
@ApiTags('models')
@ApiBearerAuth()
@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  @ApiOperation({ summary: 'List the models this tenant can call' })
  async list(@CurrentTenant() auth: TenantAuth) {
    const models = await this.catalog.listModels();
    return { object: 'list', data: models.filter((m) => m.price && modelAllowed(auth, m.id)).map(toModelObject) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model this tenant can call' })
  async retrieve(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    const model = modelAllowed(auth, id) ? await this.catalog.findModel(id) : null;
    if (!model?.price) throw modelNotFound(id);
    return toModelObject(model);
  }
}
