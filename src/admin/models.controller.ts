import { Body, Get, Param, Put } from '@nestjs/common';
import { AdminController } from './admin-controller';
import { PutModelDto } from './dto/model.dto';
import { ModelsService } from './models.service';

@AdminController('admin/models', 'models')
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
