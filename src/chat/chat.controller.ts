import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeyGuard, CurrentTenant, TenantAuth } from '../auth/auth.guards';
import { Env } from '../config/env';
import { ResponsesService } from '../responses/responses.service';
import { costHeader } from '../responses/response-object';
import { streamReply } from '../responses/stream-reply';
import { ChatChunker, toChatCompletion, toResponsesRequest } from './chat-format';
import { ChatCompletionDto } from './dto/chat-completion.dto';

/** POST /v1/chat/completions over the same pipeline (auth, reservation, provider, metering) as /v1/responses. */
@ApiTags('chat')
@ApiBearerAuth()
@Controller('v1/chat/completions')
@UseGuards(ApiKeyGuard)
export class ChatController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly env: Env,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a chat completion (plain, or streamed chunks ending with [DONE])' })
  async create(@CurrentTenant() auth: TenantAuth, @Body() dto: ChatCompletionDto, @Res() reply: FastifyReply) {
    const prepared = await this.responses.prepare(auth, toResponsesRequest(dto));
    reply.headers(prepared.rateHeaders);
    if (!dto.stream) {
      const response = await this.responses.complete(prepared);
      reply.status(200).headers(costHeader(response.usage)).send(toChatCompletion(response));
      return;
    }
    const chunker = new ChatChunker(dto.stream_options?.include_usage === true);
    await streamReply(reply, this.env, this.responses, prepared, (sse, frames) => sse.sendData(chunker.chunks(frames)), (sse) => sse.sendDone());
  }
}
