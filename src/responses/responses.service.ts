import { Injectable, Logger } from '@nestjs/common';
import { modelAllowed, modelNotAllowed, TenantAuth } from '../auth/auth.guards';
import type { ApiError } from '../common/api-error';
import { DomainError, ErrorCode, invalidValue, notFound } from '../common/errors';
import { newId, newUuid } from '../common/ids';
import { computeCharge, costReceipt, maxAmount, Price } from '../billing/money';
import { ReservationsService } from '../billing/reservations.service';
import { CatalogService, PriceVersion } from '../catalog/catalog.service';
import { InflightService } from '../metering/inflight.service';
import { MeteringService } from '../metering/metering.service';
import { BoundedUsage, boundUsage, UsageBounds } from '../metering/usage-bounds';
import { UsageRecorder } from '../metering/usage-recorder';
import { MetricsService } from '../metrics/metrics.service';
import { toApiError } from '../common/openai-error.filter';
import type { ContextCache, GenerateRequest, GenerateResult, Provider, StreamEvent, ThinkingType, Usage } from '../providers/provider';
import { countTexts } from '../providers/token-counting';
import { ProvidersService } from '../providers/providers.service';
import { RateLimiterService } from '../ratelimit/rate-limiter.service';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQuery } from './dto/list-input-items.dto';
import { buildPrompt, InputItem, normalizeInput, OutputItem, toItemResource, Turn } from './input-items';
import { ApiUsage, ResponseRecord, ResponseSettings, toApiUsage, toResponseObject } from './response-object';
import { ResponseStore } from './response-store';
import { OutputLimit } from './output-limit';
import { relayedDelta, ResponseStreamBuilder, StreamFrame } from './stream-events';
import { passThroughOf, resolveItemReferences, textFormatOf, toolChoiceOf, toolsOf } from './tool-fields';

const modelNotPriced = (model: string) =>
  new DomainError(ErrorCode.ModelNotPriced, `The model '${model}' has no price in force and cannot be called yet.`, { param: 'model' });

const previousNotFound = (id: string) =>
  new DomainError(ErrorCode.PreviousResponseNotFound, `Previous response with id '${id}' not found.`, { param: 'previous_response_id' });

@Injectable()
export class ResponsesService {
  private readonly logger = new Logger(ResponsesService.name);

  constructor(
    private readonly catalog: CatalogService,
    private readonly providers: ProvidersService,
    private readonly store: ResponseStore,
    private readonly metering: MeteringService,
    private readonly reservations: ReservationsService,
    private readonly metrics: MetricsService,
    private readonly rateLimiter: RateLimiterService,
    private readonly inflight: InflightService,
    private readonly recorder: UsageRecorder,
  ) {}

  /**
   * Everything before the model runs: validation, the conversation, the provider's own checks and
   * the balance reservation. Whatever fails here is an ordinary JSON error and costs nothing.
   */
  async prepare(auth: TenantAuth, dto: CreateResponseDto): Promise<PreparedResponse> {
    const requestedAt = new Date();
    const settings = settingsOf(dto);
    if (!modelAllowed(auth, dto.model)) throw modelNotAllowed(dto.model);
    const model = await this.catalog.findModel(dto.model, requestedAt, auth.tenantId);
    if (!model) throw invalidValue('model', `The model '${dto.model}' does not exist or you do not have access to it.`);
    if (!model.price) throw modelNotPriced(dto.model);
    const priceVersion = model.price;
    const tools = toolsOf(dto.tools);
    const toolChoice = toolChoiceOf(dto.tool_choice, tools);
    const textFormat = textFormatOf(dto.text);
    if (dto.background) throw invalidValue('background', 'Background responses are not supported.');
    if (settings.caching?.type === 'enabled' && !settings.store) {
      throw invalidValue('store', 'Caching needs the response to be stored: do not send store: false with caching enabled.');
    }
    const input = await resolveItemReferences(this.store, auth.tenantId, normalizeInput(dto.input, dto.messages), dto.input != null ? 'input' : 'messages');
    let history: Turn[] = [];
    let previousCache = null;
    if (dto.previous_response_id) {
      const chain = await this.store.loadChain(auth.tenantId, dto.previous_response_id);
      if (!chain) throw previousNotFound(dto.previous_response_id);
      history = chain.turns;
      previousCache = chain.cache;
    }
    const { messages, newInputStart, items } = buildPrompt(dto.instructions, history, input);
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
      thinkingRequested: settings.thinking !== null,
      expireAt: settings.expire_at,
      caching: { enabled: settings.caching?.type === 'enabled', prefix: settings.caching?.prefix === true },
      stream: dto.stream === true,
      previousCache,
      items,
      tools,
      toolChoice,
      textFormat,
      passThrough: passThroughOf(dto),
    };
    await provider.validate(request);

    const bounds = await provider.usageBounds(request);
    const rateHeaders = auth.limits ? await this.rateLimiter.consume(auth.apiKeyId, auth.limits, bounds.inputTokens + bounds.outputTokens) : {};
    // Hold the most this request can cost (input at the dearer of the two input prices, so no mix
    // of cached and uncached tokens can exceed it); the charge releases it, a failure gives it back.
    const price = priceOf(priceVersion);
    const maxCost = computeCharge(
      { inputTokens: bounds.inputTokens, cachedTokens: 0, outputTokens: bounds.outputTokens, reasoningTokens: 0 },
      { ...price, input: maxAmount(price.input, price.cachedInput) },
    );
    const ids = { responseId: newId('resp'), usageEventId: newUuid(), reservationId: newUuid() };
    await this.reservations.admit({
      ...ids,
      tenantId: auth.tenantId,
      apiKeyId: auth.apiKeyId,
      amount: maxCost.total,
      model: model.id,
      priceId: priceVersion.id,
      maxInputTokens: bounds.inputTokens,
      maxOutputTokens: bounds.outputTokens,
      requestedAt,
      budget: auth.budget ? { period: auth.budget.period } : null,
    });
    const prepared: PreparedResponse = { auth, dto, settings, input, request, provider, requestedAt, ...ids, bounds, price: priceVersion, rateHeaders };
    this.inflight.track(ids.usageEventId, bounds, () => promptOnlyUsage(bounds));
    return prepared;
  }

  /** Non-streaming: generate, store with its usage, queue the charge. */
  async complete(p: PreparedResponse) {
    let result: GenerateResult;
    try {
      const started = performance.now();
      result = await p.provider.generate(p.request);
      this.metrics.providerDuration.observe({ provider: p.provider.name, outcome: 'ok' }, (performance.now() - started) / 1000);
    } catch (err) {
      await this.withdraw(p);
      throw err;
    }
    const billed = receipted(p, toRecord(p, result.status, result.incompleteReason, outputOf(result), null), result.usage);
    return toResponseObject(await this.finish(p, billed, result.cache));
  }

  /**
   * Streaming. Nothing is sent until the provider's first event: a provider that fails at once is
   * an ordinary JSON error, costs nothing. From then on the stream is answered and charged exactly
   * once: fully when it ends, and for what was produced when the client goes away (`signal`) or
   * the provider fails midway. A provider that streams past the output bound is cut there. The
   * stream always ends with response.completed / response.incomplete, or error + response.failed.
   */
  async stream(p: PreparedResponse, signal: AbortSignal, send: (frames: StreamFrame[]) => Promise<void>): Promise<void> {
    const cut = new AbortController();
    const onClientGone = () => cut.abort();
    signal.addEventListener('abort', onClientGone, { once: true });
    try {
      await this.runStream(p, signal, cut, send);
    } finally {
      signal.removeEventListener('abort', onClientGone);
    }
  }

  private async runStream(p: PreparedResponse, client: AbortSignal, cut: AbortController, send: (frames: StreamFrame[]) => Promise<void>) {
    const events = p.provider.stream(p.request, cut.signal)[Symbol.asyncIterator]();
    let next: IteratorResult<StreamEvent>;
    try {
      next = await events.next();
    } catch (err) {
      await this.withdraw(p);
      throw err;
    }
    if (next.done) {
      // The client left before anything was produced: nothing answered, nothing charged.
      await this.withdraw(p);
      return;
    }
    const builder = new ResponseStreamBuilder();
    const partial = () =>
      p.provider.partialUsage?.(p.request, builder.reasoningText, builder.text + builder.callText) ??
      partialUsageByTokenizer(p.bounds.inputTokens, builder.reasoningText, builder.text, builder.callText);
    this.inflight.track(p.usageEventId, p.bounds, partial);
    await send(builder.start(toRecord(p, 'in_progress', null, [], null)));
    const limit = new OutputLimit(p.bounds.outputTokens);
    let result: GenerateResult | null = null;
    let failure: ApiError | null = null;
    let overBound = false;
    try {
      for (; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.type === 'done') result = event.result;
        else {
          const delta = await this.sendEvent(builder, event, send);
          if (delta && limit.exceededBy(delta, builder)) {
            overBound = true;
            cut.abort();
            await events.return?.(undefined);
            break;
          }
        }
      }
    } catch (err) {
      if (!overBound) failure = toApiError(err);
    }

    let billed: Billed;
    let cache: ContextCache | null = null;
    if (result) {
      const output = builder.relaying ? (result.output ?? builder.outputItems(result.status)) : outputOf(result, builder.itemIds);
      billed = receipted(p, toRecord(p, result.status, result.incompleteReason, output as OutputItem[], null), result.usage);
      cache = result.cache;
    } else {
      // Stopped early: charge what was produced, exactly once.
      const status = failure ? 'failed' : 'incomplete';
      const reason = failure ? null : overBound ? 'max_output_tokens' : 'client_disconnected';
      billed = receipted(p, toRecord(p, status, reason, builder.outputItems('incomplete'), null), await partial());
    }
    let record = billed.record;
    try {
      record = await this.finish(p, billed, cache);
    } catch (err) {
      failure = toApiError(err);
      if (record.status !== 'failed') record = { ...record, status: 'failed', settings: { ...record.settings, incomplete_reason: null } };
    }
    if (client.aborted) return;
    // The client's response.failed carries a schema-allowed error code; the precise one is logged.
    if (failure) this.logger.warn(`response ${p.responseId} failed mid-stream: ${failure.code ?? failure.type}: ${failure.message}`);
    await send(failure ? builder.fail(failure, record) : builder.finish(record));
  }

  /** Sends one provider event as stream frames; returns the generated text it carried (for the output bound). */
  private async sendEvent(builder: ResponseStreamBuilder, event: Exclude<StreamEvent, { type: 'done' }>, send: (frames: StreamFrame[]) => Promise<void>) {
    switch (event.type) {
      case 'reasoning.delta':
        await send(builder.reasoningDelta(event.delta));
        return event.delta;
      case 'text.delta':
        await send(builder.textDelta(event.delta));
        return event.delta;
      case 'call.start':
        await send(builder.callStart(event.call));
        return '';
      case 'call.delta':
        await send(builder.callDelta(event.delta));
        return event.delta;
      case 'relay':
        await send(builder.relay(event.event));
        return relayedDelta(event.event)?.delta ?? '';
    }
  }

  /**
   * Stores the response (when asked to) and finishes its usage event, then queues the charge.
   * Returns the record as stored.
   */
  private async finish(p: PreparedResponse, { record, bounded }: Billed, cache: ContextCache | null): Promise<ResponseRecord> {
    try {
      const finished = await this.recorder.finish(this.store.responseRow(p.auth, record, p.input, cache), {
        usageEventId: p.usageEventId,
        ...bounded,
      });
      if (!finished) this.logger.warn(`response ${p.responseId} finished after its lease ran out; it was charged as interrupted`);
      this.metering.enqueueCharge(p.usageEventId);
      return record;
    } finally {
      this.inflight.untrack(p.usageEventId);
    }
  }

  private withdraw(p: PreparedResponse) {
    return this.inflight.withdraw(p.usageEventId, p.reservationId);
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
    const data = ordered.slice(start, start + limit).map(toItemResource);
    // OpenAI's schema wants strings here even for an empty page.
    return {
      object: 'list',
      data,
      first_id: String(data[0]?.id ?? ''),
      last_id: String(data[data.length - 1]?.id ?? ''),
      has_more: start + limit < ordered.length,
    };
  }
}

export interface PreparedResponse {
  auth: TenantAuth;
  dto: CreateResponseDto;
  settings: ResponseSettings;
  input: InputItem[];
  request: GenerateRequest;
  provider: Provider;
  requestedAt: Date;
  responseId: string;
  usageEventId: string;
  reservationId: string;
  bounds: UsageBounds;
  /** The price version fixed at admission: the receipt's and the charge's. */
  price: PriceVersion;
  /** x-ratelimit-* headers for the answer (empty for keys without limits). */
  rateHeaders: Record<string, string>;
}

/**
 * The output items of a finished generation (ids given when the stream already announced them);
 * an upstream's own items as it sent them.
 */
function outputOf(result: GenerateResult, ids: { reasoning?: string; message?: string; call?: string } = {}): OutputItem[] {
  if (result.output) return result.output as unknown as OutputItem[];
  const output: OutputItem[] = [];
  if (result.reasoning !== null) {
    output.push({ type: 'reasoning', id: ids.reasoning ?? newId('rs'), summary: [{ type: 'summary_text', text: result.reasoning }] });
  }
  if (result.text !== null) {
    output.push({
      type: 'message',
      id: ids.message ?? newId('msg'),
      status: result.status,
      role: 'assistant',
      content: [{ type: 'output_text', text: result.text, annotations: [], logprobs: [] }],
    });
  }
  for (const call of result.toolCalls ?? []) {
    if (call.kind === 'function') {
      output.push({ type: 'function_call', id: ids.call ?? newId('fc'), call_id: call.callId, name: call.name, arguments: call.input, status: result.status });
    } else {
      output.push({ type: 'custom_tool_call', id: ids.call ?? newId('ctc'), call_id: call.callId, name: call.name, input: call.input });
    }
  }
  return output;
}

function toRecord(
  p: PreparedResponse,
  status: ResponseRecord['status'],
  incompleteReason: ResponseSettings['incomplete_reason'],
  output: OutputItem[],
  usage: ApiUsage | null,
): ResponseRecord {
  return {
    id: p.responseId,
    model: p.dto.model,
    status,
    instructions: p.dto.instructions ?? null,
    output,
    usage,
    settings: { ...p.settings, incomplete_reason: incompleteReason },
    previousResponseId: p.dto.previous_response_id ?? null,
    createdAt: p.requestedAt,
    completedAt: status === 'in_progress' ? null : new Date(),
  };
}

/** A finished request's record with its receipt, and the usage its event is charged for. */
interface Billed {
  record: ResponseRecord;
  bounded: BoundedUsage;
}

/**
 * Holds the reported usage to the reserved bounds, and reports exactly that billable usage with
 * its cost at the admission's price version: what the usage event records and the worker charges.
 */
function receipted(p: PreparedResponse, record: ResponseRecord, usage: Usage): Billed {
  const bounded = boundUsage(usage, p.bounds);
  const receipt = costReceipt(bounded.billable, { id: p.price.id, ...priceOf(p.price) });
  return { record: { ...record, usage: { ...toApiUsage(bounded.billable), ...receipt } }, bounded };
}

/** What a request has certainly used before its answer: its prompt. */
const promptOnlyUsage = (bounds: UsageBounds): Usage => ({ inputTokens: bounds.inputTokens, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 });

/** A stream's usage when the provider cannot say: the prompt bound, and the texts counted. */
async function partialUsageByTokenizer(inputTokens: number, reasoning: string, text: string, call: string): Promise<Usage> {
  const [reasoningTokens, textTokens, callTokens] = await countTexts([reasoning, text, call]);
  return { inputTokens, cachedTokens: 0, outputTokens: reasoningTokens + textTokens + callTokens, reasoningTokens };
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
    tools: dto.tools ?? [],
    parallel_tool_calls: dto.parallel_tool_calls ?? true,
    truncation: dto.truncation ?? 'disabled',
    user: dto.user ?? null,
    service_tier: dto.service_tier ?? null,
    incomplete_reason: null,
  };
}
