import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { Env } from '../config/env';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { costHeader } from './response-object';
import { ResponsesService } from './responses.service';
import { streamReply } from './stream-reply';

@ApiTags('responses')
@ApiBearerAuth()
@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly env: Env,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a response (OpenAI Responses API; stream: true for SSE). Vendor fields caching/thinking top-level or in extra_body.' })
  async create(@CurrentTenant() auth: TenantAuth, @Body() dto: CreateResponseDto, @Res() reply: FastifyReply) {
    const prepared = await this.responses.prepare(auth, dto);
    reply.headers(prepared.rateHeaders);
    if (!dto.stream) {
      const response = await this.responses.complete(prepared);
      reply.status(200).headers(costHeader(response.usage)).send(response);
      return;
    }
    await streamReply(reply, this.env, this.responses, prepared, (sse, frames) => sse.send(frames));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Retrieve a stored response' })
  retrieve(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    return this.responses.retrieve(auth, id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a stored response (its usage stays billed)' })
  delete(@CurrentTenant() auth: TenantAuth, @Param('id') id: string) {
    return this.responses.delete(auth, id);
  }

  @Get(':id/input_items')
  @ApiOperation({ summary: 'List a response\'s input items (cursor paging)' })
  inputItems(@CurrentTenant() auth: TenantAuth, @Param('id') id: string, @Query() query: ListInputItemsQuery) {
    return this.responses.listInputItems(auth, id, query);
  }
}
