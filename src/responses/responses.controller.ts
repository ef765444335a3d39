import { Body, Controller, Delete, Get, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { Env } from '../config/env';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { ResponsesService } from './responses.service';
import { streamReply } from './stream-reply';

@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly env: Env,
  ) {}

  @Post()
  async create(@CurrentTenant() auth: TenantAuth, @Body() dto: CreateResponseDto, @Res() reply: FastifyReply) {
    const prepared = await this.responses.prepare(auth, dto);
    if (!dto.stream) {
      reply.status(200).send(await this.responses.complete(prepared));
      return;
    }
    await streamReply(reply, this.env, this.responses, prepared, (sse, frames) => sse.send(frames));
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
