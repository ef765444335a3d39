import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { ResponsesService } from './responses.service';

@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(private readonly responses: ResponsesService) {}

  @Post()
  @HttpCode(200)
  create(@CurrentTenant() auth: TenantAuth, @Body() dto: CreateResponseDto) {
    return this.responses.create(auth, dto);
  }

  @Get(':id')
  retrieve(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    return this.responses.retrieve(auth, id);
  }

  @Delete(':id')
  delete(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    return this.responses.delete(auth, id);
  }

  @Get(':id/input_items')
  inputItems(@CurrentTenant() auth: TenantAuth, @Param('id') id: string, @Query() query: ListInputItemsQuery) {
    return this.responses.listInputItems(auth, id, query);
  }
}
