import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { invalidValue } from '../../common/errors';
import type {
  GenerateRequest,
  GenerateResult,
  PromptMessage,
  Provider,
  StreamEvent,
  ToolCall,
  Usage,
} from '../provider';
import { requestPromptTokens } from '../token-counting';
import { newId } from '../../common/ids';
import { countTokens, hasMoreTokensThan, truncateToTokens } from '../tokenizer';
import { AnswerPlan, definitionTokens, planAnswer, tokenPieces, validatePlan } from './answer-plan';
import { cachedTokensFor, cacheLeft } from './caching';
import { deriveSeed, generateText, generateTokens, seedOfOffLoop } from './text-generator';

export const SIMULATED_OPTIONS = Symbol('SIMULATED_OPTIONS');

export interface SimulatedOptions {
  /** Wait before answering (time to first token), in ms; 0 for none. */
  latencyMs: number;
  /** Streaming pace; 0 streams without pauses. */
  tokensPerSecond: number;
  /** Fixed visible answer length in tokens; null lets the length follow the request (16..63). */
  outputTokens: number | null;
}

export const PREFIX_CACHE_MIN_TOKENS = 256;
/** Longest reasoning and default answer, in tokens (both are 16 + seed % 48). */
const MAX_NATURAL_TOKENS = 63;

/** A generation with its texts split into one-token pieces (the stream's deltas). */
interface Generation {
  result: GenerateResult;
  reasoningPieces: string[];
  /** The answer's pieces: the message text, or the tool call's input when `call` is set. */
  textPieces: string[];
  call: ToolCall | null;
}

/** Extra output a JSON answer may need beyond its words (braces, key, quotes; words re-split by quotes). */
const JSON_OBJECT_EXTRA_TOKENS = 8;

const abortError = () =>
  Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

/**
 * thinking 'auto' reasons only when the last user message looks like it needs it: it asks a
 * question ('?') or is longer than 12 tokens. No user message: no reasoning.
 */
export function autoThinks(messages: readonly PromptMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role !== 'user') continue;
    const text = messages[i].text;
    return text.includes('?') || hasMoreTokensThan(text, 12);
  }
  return false;
}

@Injectable()
export class SimulatedProvider implements Provider {
  readonly name = 'simulated';

  constructor(@Inject(SIMULATED_OPTIONS) private readonly options: SimulatedOptions) {}

  async usageBounds(request: GenerateRequest): Promise<{ inputTokens: number; outputTokens: number }> {
    const inputTokens = (await requestPromptTokens(request)) + definitionTokens(request);
    if (request.caching.enabled && request.caching.prefix) return { inputTokens, outputTokens: 0 };
    const thinks = request.thinking === 'enabled' || (request.thinking === 'auto' && autoThinks(request.messages));
    const textBound = this.options.outputTokens ?? MAX_NATURAL_TOKENS;
    const plan = planAnswer(request);
    const answer =
      plan.kind === 'call' ? countTokens(plan.input) : plan.kind === 'json' ? countTokens(plan.text) : plan.kind === 'json_object' ? 2 * textBound + JSON_OBJECT_EXTRA_TOKENS : textBound;
    const natural = answer + (thinks ? MAX_NATURAL_TOKENS : 0);
    const cap = request.maxOutputTokens ?? Infinity;
    return { inputTokens, outputTokens: Math.max(0, Math.min(natural, cap)) };
  }

  async validate(request: GenerateRequest): Promise<void> {
    validatePlan(request);
    const { caching } = request;
    if (!caching.prefix) return;
    if (!caching.enabled) {
      throw invalidValue('caching.prefix', 'caching.prefix requires caching.type "enabled".');
    }
    if (request.stream) {
      throw invalidValue('stream', 'A prefix cache request (caching.prefix) cannot be streamed.');
    }
    if (request.maxOutputTokens != null) {
      throw invalidValue(
        'max_output_tokens',
        'A prefix cache request (caching.prefix) generates nothing and takes no max_output_tokens.',
      );
    }
    const tokens = await requestPromptTokens(request);
    if (tokens < PREFIX_CACHE_MIN_TOKENS) {
      throw invalidValue(
        'input',
        `The prefix cache needs at least ${PREFIX_CACHE_MIN_TOKENS} input tokens; got ${tokens}.`,
      );
    }
  }

  async partialUsage(request: GenerateRequest, reasoning: string, text: string): Promise<Usage> {
    const promptTokens = await requestPromptTokens(request);
    const inputTokens = promptTokens + definitionTokens(request);
    const cachedTokens = await cachedTokensFor(request.messages, promptTokens, request.caching, request.previousCache);
    const reasoningTokens = reasoning ? countTokens(reasoning) : 0;
    return { inputTokens, cachedTokens, outputTokens: reasoningTokens + (text ? countTokens(text) : 0), reasoningTokens };
  }

  async generate(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult> {
    if (signal?.aborted) throw abortError();
    // The prompt is counted and hashed during the latency wait.
    const wait = this.options.latencyMs > 0 ? delay(this.options.latencyMs, undefined, { signal }) : null;
    const [, generation] = await Promise.all([wait, this.run(request)]);
    return generation.result;
  }

  async *stream(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    const { result, reasoningPieces, textPieces, call } = await this.run(request);
    if (!(await this.pause(this.options.latencyMs, signal))) return;
    const gap = this.options.tokensPerSecond > 0 ? 1000 / this.options.tokensPerSecond : 0;
    const answerType = call ? ('call.delta' as const) : ('text.delta' as const);
    const deltas: StreamEvent[] = [
      ...reasoningPieces.map((delta) => ({ type: 'reasoning.delta' as const, delta })),
      ...textPieces.map((delta) => ({ type: answerType, delta })),
    ];
    for (let i = 0; i < deltas.length; i++) {
      if (i > 0 && !(await this.pause(gap, signal))) return;
      if (call && i === reasoningPieces.length) yield { type: 'call.start', call: { kind: call.kind, name: call.name, callId: call.callId } };
      yield deltas[i];
    }
    if (signal?.aborted) return;
    yield { type: 'done', result };
  }

  /** Waits `ms` (no timer when 0); false when the signal aborted. */
  private async pause(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    if (ms <= 0) return true;
    try {
      await delay(ms, undefined, { signal });
      return true;
    } catch (err) {
      if (signal?.aborted) return false;
      throw err;
    }
  }

  /** The whole deterministic generation; pacing is applied by the callers. */
  private async run(request: GenerateRequest): Promise<Generation> {
    const { messages, caching } = request;
    const promptTokens = await requestPromptTokens(request);
    const inputTokens = promptTokens + definitionTokens(request);
    const cachedTokens = await cachedTokensFor(messages, promptTokens, caching, request.previousCache);

    if (caching.enabled && caching.prefix) {
      return {
        result: {
          reasoning: null,
          text: null,
          status: 'completed',
          incompleteReason: null,
          usage: { inputTokens, cachedTokens, outputTokens: 0, reasoningTokens: 0 },
          cache: await cacheLeft(messages, promptTokens, caching, null),
        },
        reasoningPieces: [],
        textPieces: [],
        call: null,
      };
    }

    const seed = await seedOfOffLoop(request);
    const seed2 = deriveSeed(seed);
    const thinks =
      request.thinking === 'enabled' || (request.thinking === 'auto' && autoThinks(messages));
    const reasoningTarget = thinks ? 16 + (seed2 % 48) : 0;
    const textTarget = this.options.outputTokens ?? 16 + (seed % 48);

    // max_output_tokens caps reasoning + answer; reasoning gets its tokens first.
    const cap = Math.max(0, request.maxOutputTokens ?? Infinity);
    const reasoningTokens = Math.min(reasoningTarget, cap);
    const reasoningPieces = generateTokens(seed2, reasoningTarget, reasoningTokens);
    const reasoning = reasoningTokens > 0 ? reasoningPieces.join('') : null;
    const answer = answerOf(planAnswer(request), seed, textTarget, cap - reasoningTokens);
    const cut = reasoningTokens < reasoningTarget || answer.cut;
    const call: ToolCall | null = answer.call && answer.text ? { ...answer.call, input: answer.text } : null;
    const text = call || !answer.text ? null : answer.text;
    const cachedAnswer = call ? `${call.name}(${call.input})` : text;

    return {
      result: {
        reasoning,
        text,
        status: cut ? 'incomplete' : 'completed',
        incompleteReason: cut ? 'max_output_tokens' : null,
        usage: {
          inputTokens,
          cachedTokens,
          outputTokens: reasoningTokens + answer.tokens,
          reasoningTokens,
        },
        cache: await cacheLeft(messages, promptTokens, caching, cachedAnswer),
        ...(call && { toolCalls: [call] }),
      },
      reasoningPieces,
      textPieces: answer.pieces,
      call,
    };
  }
}

/** The answer after the reasoning, within `room` tokens: text, JSON, or a tool call's input. */
function answerOf(plan: AnswerPlan, seed: number, textTarget: number, room: number) {
  const call = plan.kind === 'call' ? { kind: plan.tool, name: plan.name, callId: newId('call') } : null;
  if (plan.kind === 'text') {
    const tokens = Math.max(0, Math.min(textTarget, room));
    const pieces = generateTokens(seed, textTarget, tokens);
    return { text: pieces.join(''), pieces, tokens, cut: tokens < textTarget, call };
  }
  const full = plan.kind === 'json_object' ? JSON.stringify({ answer: generateText(seed, textTarget) }) : plan.kind === 'json' ? plan.text : plan.input;
  const text = countTokens(full) <= room ? full : truncateToTokens(full, room);
  return { text, pieces: tokenPieces(text), tokens: countTokens(text), cut: text !== full, call };
}
