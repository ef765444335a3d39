import { Body, Controller, Get, Param, Put, UseGuards, UseInterceptors } from '@nestjs/common';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { AdminGuard } from '../auth/auth.guards';
import { PutModelDto } from './dto/model.dto';
import { ModelsService } from './models.service';

@Controller('admin/models')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class AdminModelsController {
  constructor(private readonly models: ModelsService) {}

  @Put(':model')
  put(@Param('model') model: string, @Body() dto: PutModelDto) {
    return this.models.put(model, dto);
  }

  @Get()
  list() {
    return this.models.list();
  }

  @Get(':model/prices')
  prices(@Param('model') model: string) {
    return this.models.prices(model);
  }
}
