import { Injectable } from '@nestjs/common';
import type { TenantAuth } from '../auth/auth.guards';
import { ApiError, invalidValue, notFound } from '../common/errors';
import { newId } from '../common/ids';
import { computeCharge, Price } from '../billing/money';
import { ReservationsService } from '../billing/reservations.service';
import { CatalogService, PriceVersion } from '../catalog/catalog.service';
import { MeteringService } from '../metering/metering.service';
import type { GenerateRequest, GenerateResult, ThinkingType } from '../providers/provider';
import { ProvidersService } from '../providers/providers.service';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { buildPrompt, normalizeInput, OutputItem, Turn } from './input-items';
import { ResponseRecord, ResponseSettings, toApiUsage, toResponseObject } from './response-object';
import { ResponseStore } from './response-store';

const previousNotFound = (id: string) =>
  new ApiError(400, `Previous response with id '${id}' not found.`, 'invalid_request_error', 'previous_response_not_found', 'previous_response_id');

@Injectable()
export class ResponsesService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProvidersService,
    private readonly store: ResponseStore,
    private readonly metering: MeteringService,
    private readonly reservations: ReservationsService,
  ) {}

  async create(auth: TenantAuth, dto: CreateResponseDto) {
    const requestedAt = new Date();
    const settings = settingsOf(dto);
    const model = await this.catalog.findModel(dto.model);
    if (!model || !model.price) {
      throw invalidValue('model', `The model '${dto.model}' does not exist or you do not have access to it.`);
    }
    if (dto.tools?.length) throw invalidValue('tools', 'Tools are not supported by this gateway yet.');
    if (dto.background) throw invalidValue('background', 'Background responses are not supported.');
    if (settings.caching?.type === 'enabled' && !settings.store) {
      throw invalidValue('store', 'Caching needs the response to be stored: do not send store: false with caching enabled.');
    }
    const input = normalizeInput(dto.input, dto.messages);
    let history: Turn[] = [];
    let previousCache = null;
    if (dto.previous_response_id) {
      const chain = await this.store.loadChain(auth.tenantId, dto.previous_response_id);
      if (!chain) throw previousNotFound(dto.previous_response_id);
      history = chain.turns;
      previousCache = chain.cache;
    }
    const { messages, newInputStart } = buildPrompt(dto.instructions, history, input);
    const provider = this.providers.get(model.provider);
    const request: GenerateRequest = {
      model: model.id,
      upstreamModel: model.upstreamModel,
      messages,
      newInputStart,
      maxOutputTokens: settings.max_output_tokens,
      temperature: dto.temperature ?? null,
      topP: dto.top_p ?? null,
      thinking: settings.thinking?.type ?? thinkingFromReasoning(dto.reasoning?.effort),
      caching: { enabled: settings.caching?.type === 'enabled', prefix: settings.caching?.prefix === true },
      stream: dto.stream === true,
      previousCache,
    };
    provider.validate(request);
    if (request.stream) throw invalidValue('stream', 'Streaming is not available yet on this gateway; send stream: false.');

    // Hold the most this request can cost; the charge releases it, a failure gives it back.
    const bounds = provider.usageBounds(request);
    const maxCost = computeCharge({ inputTokens: bounds.inputTokens, cachedTokens: 0, outputTokens: bounds.outputTokens, reasoningTokens: 0 }, priceOf(model.price));
    const reservationId = await this.reservations.reserve(auth.tenantId, maxCost.total);
    let usageEventId: string;
    let record: ResponseRecord;
    try {
      const result = await provider.generate(request);
      record = this.toRecord(dto, settings, result, requestedAt);
      usageEventId = await this.store.save({ auth, record, input, cache: result.cache, usage: result.usage, requestedAt, reservationId });
    } catch (err) {
      await this.reservations.release(reservationId).catch(() => undefined);
      throw err;
    }
    this.metering.enqueueCharge(usageEventId);
    return toResponseObject(record);
  }

  async retrieve(auth: TenantAuth, id: string) {
    const found = await this.store.find(auth.tenantId, id);
    if (!found) throw responseNotFound(id);
    return toResponseObject(found.record);
  }

  async delete(auth: TenantAuth, id: string) {
    if (!(await this.store.delete(auth.tenantId, id))) throw responseNotFound(id);
    return { id, object: 'response', deleted: true };
  }

  async listInputItems(auth: TenantAuth, id: string, query: ListInputItemsQuery) {
    const found = await this.store.find(auth.tenantId, id);
    if (!found) throw responseNotFound(id);
    const ordered = query.order === 'asc' ? found.input : [...found.input].reverse();
    let start = 0;
    if (query.after) {
      start = ordered.findIndex((item) => item.id === query.after) + 1;
      if (start === 0) throw invalidValue('after', `No input item with id '${query.after}' in response '${id}'.`);
    }
    const limit = query.limit ?? 20;
    const data = ordered.slice(start, start + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: start + limit < ordered.length,
    };
  }

  private toRecord(dto: CreateResponseDto, settings: ResponseSettings, result: GenerateResult, requestedAt: Date): ResponseRecord {
    const output: OutputItem[] = [];
    if (result.reasoning !== null) {
      output.push({ type: 'reasoning', id: newId('rs'), summary: [{ type: 'summary_text', text: result.reasoning }] });
    }
    if (result.text !== null) {
      output.push({
        type: 'message',
        id: newId('msg'),
        status: result.status,
        role: 'assistant',
        content: [{ type: 'output_text', text: result.text, annotations: [], logprobs: [] }],
      });
    }
    return {
      id: newId('resp'),
      model: dto.model,
      status: result.status,
      instructions: dto.instructions ?? null,
      output,
      usage: toApiUsage(result.usage),
      settings: { ...settings, incomplete_reason: result.incompleteReason },
      previousResponseId: dto.previous_response_id ?? null,
      createdAt: requestedAt,
      completedAt: new Date(),
    };
  }
}

const priceOf = (p: PriceVersion): Price => ({ input: p.input, cachedInput: p.cachedInput, output: p.output });

const responseNotFound = (id: string) => notFound(`Response with id '${id}' not found.`, 'response_id');

/** OpenAI's reasoning.effort, for clients that do not send the vendor `thinking` field. */
function thinkingFromReasoning(effort: string | undefined): ThinkingType {
  if (!effort || effort === 'none' || effort === 'minimal') return 'disabled';
  return 'enabled';
}

/** Vendor fields are read top-level first, then from a literal `extra_body` object. */
function settingsOf(dto: CreateResponseDto): ResponseSettings {
  const caching = dto.caching ?? dto.extra_body?.caching ?? null;
  const thinking = dto.thinking ?? dto.extra_body?.thinking ?? null;
  return {
    temperature: dto.temperature ?? 1,
    top_p: dto.top_p ?? 1,
    max_output_tokens: dto.max_output_tokens ?? null,
    metadata: dto.metadata ?? {},
    store: dto.store ?? true,
    caching: caching ? { type: caching.type ?? 'enabled', ...(caching.prefix !== undefined && { prefix: caching.prefix }) } : null,
    thinking: thinking ? { type: thinking.type } : null,
    expire_at: dto.expire_at ?? dto.extra_body?.expire_at ?? null,
    reasoning: { effort: dto.reasoning?.effort ?? null, summary: dto.reasoning?.summary ?? null },
    text: dto.text ?? { format: { type: 'text' } },
    tool_choice: dto.tool_choice ?? 'auto',
    tools: [],
    parallel_tool_calls: dto.parallel_tool_calls ?? true,
    truncation: dto.truncation ?? 'disabled',
    user: dto.user ?? null,
    service_tier: dto.service_tier ?? null,
    incomplete_reason: null,
  };
}
