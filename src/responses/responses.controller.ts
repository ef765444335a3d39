import { Body, Controller, Delete, Get, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { Env } from '../config/env';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { ResponsesService } from './responses.service';
import { SseWriter } from './sse-writer';

@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly env: Env,
  ) {}

  @Post()
  async create(@CurrentTenant() auth: TenantAuth, @Body() dto: CreateResponseDto, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const prepared = await this.responses.prepare(auth, dto);
    if (!dto.stream) {
      reply.status(200).send(await this.responses.complete(prepared));
      return;
    }
    // The client going away aborts the generation (and its upstream request).
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    // Errors before the first event are ordinary JSON errors; after it, they travel as events.
    const sse = new SseWriter(reply.raw, reply.getHeaders(), () => reply.hijack(), this.env.SSE_KEEPALIVE_MS);
    await this.responses.stream(prepared, abort.signal, (frames) => sse.send(frames));
    if (!sse.opened) reply.hijack(); // the client left before anything was produced
    sse.end();
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
