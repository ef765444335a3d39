import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import type { GenerateRequest } from '../provider';
import { countTokens, promptTokens } from '../tokenizer';
import { buildRequestBody, resultFromResponse } from './wire';

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  model: 'tollgate-model',
  upstreamModel: 'vendor-model-x',
  messages: [
    { role: 'system', text: 'Be brief.' },
    { role: 'user', text: 'My name is Ada.' },
    { role: 'assistant', text: 'Hello Ada.' },
    { role: 'user', text: 'What is my name?' },
  ],
  newInputStart: 3,
  maxOutputTokens: null,
  temperature: null,
  topP: null,
  thinking: 'disabled',
  caching: { enabled: false, prefix: false },
  stream: false,
  previousCache: { messages: 2, tokens: 20, fingerprint: 'fp' },
  ...over,
});

describe('buildRequestBody', () => {
  it("sends the provider's default output cap when the request has none, so the reservation bound holds", () => {
    expect(buildRequestBody(request({ maxOutputTokens: null }), false, 4096).max_output_tokens).toBe(4096);
    expect(buildRequestBody(request({ maxOutputTokens: 64 }), false, 4096).max_output_tokens).toBe(64);
    expect(buildRequestBody(request({ maxOutputTokens: null, caching: { enabled: true, prefix: true } }), false, 4096)).not.toHaveProperty('max_output_tokens');
  });

  it('sends the upstream model, the whole conversation as message items, store false and nothing unset', () => {
    expect(buildRequestBody(request(), false)).toEqual({
      model: 'vendor-model-x',
      input: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'Hello Ada.' },
        { role: 'user', content: 'What is my name?' },
      ],
      stream: false,
      store: false,
    });
  });

  it("falls back to Tollgate's model id without an upstream_model", () => {
    expect(buildRequestBody(request({ upstreamModel: null }), false).model).toBe('tollgate-model');
    expect(buildRequestBody(request({ upstreamModel: undefined }), true).model).toBe('tollgate-model');
  });

  it('passes sampling, limits and stream', () => {
    const body = buildRequestBody(request({ maxOutputTokens: 64, temperature: 0, topP: 0.5 }), true);
    expect(body).toMatchObject({ max_output_tokens: 64, temperature: 0, top_p: 0.5, stream: true, store: false });
  });

  it('forwards the vendor fields top-level: thinking unless disabled, caching when enabled', () => {
    expect(buildRequestBody(request({ thinking: 'enabled' }), false).thinking).toEqual({ type: 'enabled' });
    expect(buildRequestBody(request({ thinking: 'auto' }), false).thinking).toEqual({ type: 'auto' });
    expect(buildRequestBody(request({ thinking: 'disabled' }), false)).not.toHaveProperty('thinking');
    // A client that asked for 'disabled' gets it forwarded: some upstream models think by default.
    expect(buildRequestBody(request({ thinking: 'disabled', thinkingRequested: true }), false).thinking).toEqual({ type: 'disabled' });
    expect(buildRequestBody(request({ expireAt: 1_800_000_000 }), false).expire_at).toBe(1_800_000_000);
    expect(buildRequestBody(request({ caching: { enabled: true, prefix: false } }), false).caching).toEqual({ type: 'enabled' });
    expect(buildRequestBody(request({ caching: { enabled: true, prefix: true } }), false).caching).toEqual({ type: 'enabled', prefix: true });
    expect(buildRequestBody(request({ caching: { enabled: false, prefix: false } }), false)).not.toHaveProperty('caching');
  });

  it('never sends previous_response_id, the previous cache, or anything of the tenant', () => {
    const body = buildRequestBody(request({ thinking: 'enabled', caching: { enabled: true, prefix: false } }), false);
    const keys = Object.keys(body).sort();
    expect(keys).toEqual(['caching', 'input', 'model', 'store', 'stream', 'thinking']);
    const json = JSON.stringify(body);
    expect(json).not.toMatch(/previous|fingerprint|tenant|sk-|authorization/i);
  });
});

describe('resultFromResponse', () => {
  const req = request();
  const message = (text: string, status = 'completed') => ({
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status,
    content: [{ type: 'output_text', text, annotations: [] }],
  });

  it('maps texts, status and usage (cached and reasoning tokens included)', () => {
    const result = resultFromResponse(
      {
        status: 'completed',
        output: [
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'First.' }, { type: 'summary_text', text: 'Second.' }] },
          message('Your name '),
          { type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }, { type: 'output_text', text: 'is Ada.' }] },
        ],
        usage: {
          input_tokens: 120,
          input_tokens_details: { cached_tokens: 100 },
          output_tokens: 40,
          output_tokens_details: { reasoning_tokens: 30 },
          total_tokens: 160,
        },
      },
      req,
    );
    expect(result).toEqual({
      reasoning: 'First.\n\nSecond.',
      text: 'Your name is Ada.',
      status: 'completed',
      incompleteReason: null,
      usage: { inputTokens: 120, cachedTokens: 100, outputTokens: 40, reasoningTokens: 30 },
      cache: null,
      output: expect.any(Array),
    });
  });

  it('gives null texts when there is no reasoning or message item', () => {
    const result = resultFromResponse({ status: 'completed', output: [], usage: { input_tokens: 5, output_tokens: 0 } }, req);
    expect(result).toMatchObject({ reasoning: null, text: null, usage: { inputTokens: 5, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 } });
  });

  it('reads reasoning_text content when a reasoning item has no summary', () => {
    const result = resultFromResponse(
      { status: 'completed', output: [{ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Thinking...' }] }, message('Hi')], usage: { input_tokens: 1, output_tokens: 2 } },
      req,
    );
    expect(result.reasoning).toBe('Thinking...');
  });

  it('defaults missing details to zero and clamps cached <= input, reasoning <= output', () => {
    expect(resultFromResponse({ status: 'completed', output: [message('x')], usage: { input_tokens: 10, output_tokens: 3 } }, req).usage).toEqual({
      inputTokens: 10,
      cachedTokens: 0,
      outputTokens: 3,
      reasoningTokens: 0,
    });
    const clamped = resultFromResponse(
      {
        status: 'completed',
        output: [message('x')],
        usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 50 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 9 } },
      },
      req,
    );
    expect(clamped.usage).toEqual({ inputTokens: 10, cachedTokens: 10, outputTokens: 3, reasoningTokens: 3 });
  });

  it('counts with the tokenizer when the upstream reports no usage, so nothing is charged zero', () => {
    const result = resultFromResponse(
      { status: 'completed', output: [{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Let me think about it.' }] }, message('The answer is 42.')] },
      req,
    );
    const reasoning = countTokens('Let me think about it.');
    expect(result.usage).toEqual({
      inputTokens: promptTokens(req.messages),
      cachedTokens: 0,
      outputTokens: reasoning + countTokens('The answer is 42.'),
      reasoningTokens: reasoning,
    });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    // A usage object with garbage counts is treated the same way, field by field.
    const partial = resultFromResponse({ status: 'completed', output: [message('The answer is 42.')], usage: { input_tokens: -1, output_tokens: 9 } }, req);
    expect(partial.usage).toEqual({ inputTokens: promptTokens(req.messages), cachedTokens: 0, outputTokens: 9, reasoningTokens: 0 });
  });

  it('maps incomplete with its reason; other reasons are incomplete without one', () => {
    const cut = resultFromResponse(
      { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [message('Once upon', 'incomplete')], usage: { input_tokens: 4, output_tokens: 2 } },
      req,
    );
    expect(cut).toMatchObject({ status: 'incomplete', incompleteReason: 'max_output_tokens', text: 'Once upon' });
    const filtered = resultFromResponse({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [], usage: { input_tokens: 4, output_tokens: 0 } }, req);
    expect(filtered).toMatchObject({ status: 'incomplete', incompleteReason: null });
  });

  it('treats failed, in-progress and unreadable responses as upstream errors (502)', () => {
    for (const response of [{ status: 'failed', output: [] }, { status: 'in_progress' }, { status: 'cancelled' }, null, 'text', []]) {
      let error: unknown;
      try {
        resultFromResponse(response, req);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect(toApiError(error)).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error' });
    }
  });
});
