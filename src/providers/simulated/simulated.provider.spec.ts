import { Test } from '@nestjs/testing';
import { DomainError } from '../../common/errors';
import { toApiError } from '../../common/openai-error.filter';
import type { GenerateRequest, GenerateResult, PromptMessage, StreamEvent } from '../provider';
import { closeTokenCounting } from '../token-counting';
import { countTokens, messageTokens, promptTokens, truncateToTokens } from '../tokenizer';
import { fingerprint } from './caching';
import {
  autoThinks,
  SIMULATED_OPTIONS,
  SimulatedOptions,
  SimulatedProvider,
} from './simulated.provider';
import { deriveSeed, generateText, seedOf } from './text-generator';

const fast: SimulatedOptions = { latencyMs: 0, tokensPerSecond: 0, outputTokens: null };
const provider = new SimulatedProvider(fast);

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  model: 'sim-1',
  messages: [
    { role: 'system', text: 'You are terse.' },
    { role: 'user', text: 'Say something' },
  ],
  newInputStart: 1,
  thinking: 'disabled',
  caching: { enabled: false, prefix: false },
  stream: false,
  ...over,
});
const gen = (over: Partial<GenerateRequest> = {}) => provider.generate(request(over));
const validate = (over: Partial<GenerateRequest>) => provider.validate(request(over));
const thinking = (over: Partial<GenerateRequest> = {}) => request({ thinking: 'enabled', ...over });
const session = { enabled: true, prefix: false };
const prefixCache = { enabled: true, prefix: true };
/** A prompt of exactly `tokens` tokens (one user message). */
const promptOf = (tokens: number): PromptMessage[] => {
  const framing = messageTokens({ role: 'user', text: '' });
  const messages: PromptMessage[] = [{ role: 'user', text: generateText(77, tokens - framing) }];
  expect(promptTokens(messages)).toBe(tokens);
  return messages;
};

async function collect(iterable: AsyncIterable<StreamEvent>) {
  const events: StreamEvent[] = [];
  for await (const e of iterable) events.push(e);
  const join = (type: string) =>
    events.flatMap((e) => (e.type === type && 'delta' in e ? [e.delta] : [])).join('');
  const done = events.filter((e) => e.type === 'done') as { result: GenerateResult }[];
  return { events, reasoning: join('reasoning.delta'), text: join('text.delta'), done };
}

const expectApiError = async (validation: Promise<void>, param: string, message?: RegExp) => {
  let error: unknown;
  try {
    await validation;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DomainError);
  expect(toApiError(error)).toMatchObject({ status: 400, param, type: 'invalid_request_error' });
  if (message) expect((error as DomainError).message).toMatch(message);
};

describe('SimulatedProvider', () => {
  it('is named "simulated" and injectable with SIMULATED_OPTIONS', async () => {
    const module = await Test.createTestingModule({
      providers: [
        SimulatedProvider,
        { provide: SIMULATED_OPTIONS, useValue: { ...fast, outputTokens: 5 } },
      ],
    }).compile();
    const injected = module.get(SimulatedProvider);
    expect(injected.name).toBe('simulated');
    const result = await injected.generate(request());
    expect(result.usage.outputTokens).toBe(5);
  });

  describe('generation', () => {
    it('is deterministic: same request, same text, reasoning and usage', async () => {
      const a = await provider.generate(thinking());
      const b = await new SimulatedProvider(fast).generate(thinking());
      expect(b).toEqual(a);
      expect(a.text).toEqual(expect.any(String));
    });

    it('gives different texts for different prompts', async () => {
      const texts = new Set<string | null>();
      for (let i = 0; i < 20; i++) {
        const r = await gen({ messages: [{ role: 'user', text: `Prompt ${i}` }] });
        texts.add(r.text);
      }
      expect(texts.size).toBe(20);
    });

    it('counts the prompt as input tokens and makes 16 + seed % 48 text tokens', async () => {
      const lengths = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const req = request({ messages: [{ role: 'user', text: `Question number ${i}` }] });
        const r = await provider.generate(req);
        const n = 16 + (seedOf(req) % 48);
        const inputTokens = promptTokens(req.messages);
        const usage = { inputTokens, cachedTokens: 0, outputTokens: n, reasoningTokens: 0 };
        expect(r.usage).toEqual(usage);
        expect(countTokens(r.text!)).toBe(n);
        expect(r).toMatchObject({ reasoning: null, status: 'completed', incompleteReason: null });
        expect(r.cache).toBeNull();
        lengths.add(n);
      }
      expect(Math.min(...lengths)).toBeGreaterThanOrEqual(16);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(63);
      expect(lengths.size).toBeGreaterThan(10);
    });

    it('ignores stream and the cap for the text itself (same prefix)', async () => {
      const full = await provider.generate(request());
      expect((await provider.generate(request({ stream: true }))).text).toBe(full.text);
      const capped = await provider.generate(request({ maxOutputTokens: 7 }));
      expect(full.text!.startsWith(capped.text!)).toBe(true);
    });

    it.each([0, 1, 2, 17, 100, 1000])('makes exactly outputTokens=%i text tokens', async (n) => {
      const p = new SimulatedProvider({ ...fast, outputTokens: n });
      for (const req of [request(), request({ model: 'other' })]) {
        const r = await p.generate(req);
        expect(r.usage.outputTokens).toBe(n);
        expect(r.text === null ? 0 : countTokens(r.text)).toBe(n);
        expect(r.text === null).toBe(n === 0);
        expect(r.status).toBe('completed');
      }
      const withReasoning = await p.generate(thinking());
      expect(withReasoning.usage.outputTokens).toBe(n + withReasoning.usage.reasoningTokens);
    });
  });

  describe('thinking', () => {
    it('enabled: reasons 16 + seed2 % 48 tokens, included in outputTokens', async () => {
      for (let i = 0; i < 10; i++) {
        const req = thinking({ messages: [{ role: 'user', text: `Think about ${i}` }] });
        const r = await provider.generate(req);
        const seed = seedOf(req);
        const reasoningTokens = 16 + (deriveSeed(seed) % 48);
        const textTokens = 16 + (seed % 48);
        expect(countTokens(r.reasoning!)).toBe(reasoningTokens);
        expect(countTokens(r.text!)).toBe(textTokens);
        expect(r.usage.reasoningTokens).toBe(reasoningTokens);
        expect(r.usage.outputTokens).toBe(reasoningTokens + textTokens);
        expect(r.reasoning).not.toBe(r.text);
      }
    });

    it('disabled: no reasoning', async () => {
      const r = await provider.generate(request({ thinking: 'disabled' }));
      expect(r.reasoning).toBeNull();
      expect(r.usage.reasoningTokens).toBe(0);
      expect(r.usage.outputTokens).toBe(countTokens(r.text!));
    });

    it('auto: reasons when the last user message has a "?" or more than 12 tokens', async () => {
      const long = 'Please write a detailed summary of the history of the city and its people';
      expect(countTokens(long)).toBeGreaterThan(12);
      const exactly12 = generateText(3, 12);
      const cases: [PromptMessage[], boolean][] = [
        [[{ role: 'user', text: 'Why?' }], true],
        [[{ role: 'user', text: long }], true],
        [[{ role: 'user', text: 'Hello there' }], false],
        [[{ role: 'user', text: exactly12 }], false],
        [[{ role: 'user', text: generateText(3, 13) }], true],
        [
          [
            { role: 'user', text: long },
            { role: 'assistant', text: 'Ok.' },
            { role: 'user', text: 'Thanks' },
          ],
          false,
        ],
        [[{ role: 'user', text: 'Hi' }, { role: 'assistant', text: 'What now?' }], false],
        [[{ role: 'system', text: long }], false],
      ];
      for (const [messages, expected] of cases) {
        expect(autoThinks(messages)).toBe(expected);
        const r = await provider.generate(request({ thinking: 'auto', messages }));
        expect(r.reasoning !== null).toBe(expected);
        expect(r.usage.reasoningTokens > 0).toBe(expected);
      }
    });
  });

  describe('max_output_tokens', () => {
    const req = thinking();
    let full: GenerateResult;
    beforeAll(async () => {
      full = await provider.generate(req);
    });

    it('completes when the cap is not reached', async () => {
      const r = await provider.generate({ ...req, maxOutputTokens: full.usage.outputTokens });
      expect(r).toEqual(full);
      expect(full).toMatchObject({ status: 'completed', incompleteReason: null });
    });

    it('cuts the text after the reasoning', async () => {
      const cap = full.usage.reasoningTokens + 5;
      const r = await provider.generate({ ...req, maxOutputTokens: cap });
      expect(r.reasoning).toBe(full.reasoning);
      expect(r.text).toBe(truncateToTokens(full.text!, 5));
      expect(countTokens(r.text!)).toBe(5);
      expect(r.usage.outputTokens).toBe(cap);
      expect(r.usage.reasoningTokens).toBe(full.usage.reasoningTokens);
      expect(r).toMatchObject({ status: 'incomplete', incompleteReason: 'max_output_tokens' });
    });

    it('cuts inside the reasoning: no text', async () => {
      for (const cap of [1, 10, full.usage.reasoningTokens]) {
        const r = await provider.generate({ ...req, maxOutputTokens: cap });
        expect(r.text).toBeNull();
        expect(r.reasoning).toBe(truncateToTokens(full.reasoning!, cap));
        expect(countTokens(r.reasoning!)).toBe(cap);
        expect(r.usage).toMatchObject({ outputTokens: cap, reasoningTokens: cap });
        expect(r).toMatchObject({ status: 'incomplete', incompleteReason: 'max_output_tokens' });
      }
    });

    it('cuts the text without thinking', async () => {
      const plain = await provider.generate(request());
      const r = await provider.generate(request({ maxOutputTokens: 3 }));
      expect(r.text).toBe(truncateToTokens(plain.text!, 3));
      expect(r.usage).toMatchObject({ outputTokens: 3, reasoningTokens: 0 });
      expect(r.status).toBe('incomplete');
      const zero = await provider.generate(request({ maxOutputTokens: 0 }));
      expect(zero).toMatchObject({ text: null, reasoning: null, status: 'incomplete' });
      expect(zero.usage.outputTokens).toBe(0);
    });
  });

  describe('prefix cache', () => {
    const messages = promptOf(300);

    it('caches the whole prompt and generates nothing', async () => {
      const req = thinking({ messages, caching: prefixCache });
      await expect(provider.validate(req)).resolves.toBeUndefined();
      const r = await provider.generate(req);
      expect(r).toEqual({
        reasoning: null,
        text: null,
        status: 'completed',
        incompleteReason: null,
        usage: { inputTokens: 300, cachedTokens: 0, outputTokens: 0, reasoningTokens: 0 },
        cache: { messages: 1, tokens: 300, fingerprint: fingerprint(messages) },
      });
      const p = new SimulatedProvider({ ...fast, outputTokens: 50 });
      expect((await p.generate(req)).usage.outputTokens).toBe(0);
    });

    it('needs at least 256 input tokens', async () => {
      await expect(validate({ messages: promptOf(256), caching: prefixCache })).resolves.toBeUndefined();
      await expectApiError(
        validate({ messages: promptOf(255), caching: prefixCache }),
        'input',
        /at least 256 input tokens.*255/,
      );
      await expectApiError(validate({ caching: prefixCache }), 'input', /256/);
    });

    it('refuses max_output_tokens, streaming, and prefix without caching', async () => {
      await expectApiError(
        validate({ messages, caching: prefixCache, maxOutputTokens: 100 }),
        'max_output_tokens',
      );
      await expectApiError(validate({ messages, caching: prefixCache, stream: true }), 'stream');
      await expectApiError(
        validate({ messages, caching: { enabled: false, prefix: true } }),
        'caching.prefix',
      );
    });

    it('accepts ordinary requests', async () => {
      for (const caching of [session, { enabled: false, prefix: false }]) {
        await expect(validate({ caching, stream: true, maxOutputTokens: 5 })).resolves.toBeUndefined();
      }
    });

    it('is hit by the next request and can itself hit an earlier cache', async () => {
      const first = await provider.generate(request({ messages, caching: prefixCache }));
      const next = [...messages, { role: 'user' as const, text: 'Now answer.' }];
      const r = await gen({ messages: next, caching: session, previousCache: first.cache });
      expect(r.usage.cachedTokens).toBe(300);
      expect(r.usage.inputTokens).toBe(300 + messageTokens(next[1]));
      const again = await gen({ messages: next, caching: prefixCache, previousCache: first.cache });
      expect(again.usage.cachedTokens).toBe(300);
      const tokens = again.usage.inputTokens;
      expect(again.cache).toEqual({ messages: 2, tokens, fingerprint: fingerprint(next) });
    });
  });

  describe('session cache', () => {
    it('leaves the prompt plus the answer text, not the reasoning', async () => {
      const req = thinking({ caching: session });
      const r = await provider.generate(req);
      const answer: PromptMessage = { role: 'assistant', text: r.text! };
      expect(r.reasoning).not.toBeNull();
      expect(r.cache).toEqual({
        messages: 3,
        tokens: promptTokens([...req.messages, answer]),
        fingerprint: fingerprint([...req.messages, answer]),
      });
    });

    it('leaves only the prompt when there is no answer text', async () => {
      const req = thinking({ caching: session, maxOutputTokens: 2 });
      const r = await provider.generate(req);
      expect(r.text).toBeNull();
      const tokens = r.usage.inputTokens;
      expect(r.cache).toEqual({ messages: 2, tokens, fingerprint: fingerprint(req.messages) });
    });

    it('leaves nothing without caching', async () => {
      expect((await provider.generate(thinking())).cache).toBeNull();
    });

    it('hits on the next turn, misses on another prefix or with caching disabled', async () => {
      const turn1 = await provider.generate(request({ caching: session }));
      const next: PromptMessage[] = [
        ...request().messages,
        { role: 'assistant', text: turn1.text! },
        { role: 'user', text: 'More, please.' },
      ];
      const hit = await gen({ messages: next, caching: session, previousCache: turn1.cache });
      expect(hit.usage.cachedTokens).toBe(turn1.cache!.tokens);
      expect(hit.usage.cachedTokens).toBe(promptTokens(next.slice(0, 3)));
      expect(hit.usage.cachedTokens).toBeLessThan(hit.usage.inputTokens);
      expect(hit.cache!.messages).toBe(5);

      const otherInstructions: PromptMessage[] = [
        { role: 'system', text: 'You are verbose.' },
        ...next.slice(1),
      ];
      const miss = await provider.generate(
        request({ messages: otherInstructions, caching: session, previousCache: turn1.cache }),
      );
      expect(miss.usage.cachedTokens).toBe(0);
      const disabled = await gen({ messages: next, previousCache: turn1.cache });
      expect(disabled.usage.cachedTokens).toBe(0);
      expect(disabled.cache).toBeNull();
      const noPrevious = await provider.generate(request({ messages: next, caching: session }));
      expect(noPrevious.usage.cachedTokens).toBe(0);
    });
  });

  describe('usageBounds (for the balance reservation)', () => {
    const prompts = ['a', 'What is the capital of France?', 'Explain ledgers in detail please, step by step, with examples.'];
    const variants: Array<Partial<GenerateRequest>> = [
      {},
      { thinking: 'enabled' },
      { thinking: 'auto' },
      { maxOutputTokens: 7 },
      { thinking: 'enabled', maxOutputTokens: 40 },
      { caching: session },
    ];

    it('never falls below the real usage, for many prompts and settings', async () => {
      for (const text of prompts) {
        for (const v of variants) {
          const req = request({ messages: [{ role: 'user', text }], ...v });
          const bounds = await provider.usageBounds(req);
          const { usage } = await provider.generate(req);
          expect(bounds.inputTokens).toBe(usage.inputTokens);
          expect(bounds.outputTokens).toBeGreaterThanOrEqual(usage.outputTokens);
        }
      }
    });

    it('is tight where the answer length is fixed', async () => {
      const fixed = new SimulatedProvider({ ...fast, outputTokens: 20 });
      expect((await fixed.usageBounds(request())).outputTokens).toBe(20);
      expect((await fixed.usageBounds(request({ maxOutputTokens: 5 }))).outputTokens).toBe(5);
      expect((await provider.usageBounds(request())).outputTokens).toBe(63);
      expect((await provider.usageBounds(request({ thinking: 'enabled' }))).outputTokens).toBe(126);
    });

    it('bounds a prefix cache request to no output', async () => {
      expect((await provider.usageBounds(request({ messages: promptOf(300), caching: prefixCache }))).outputTokens).toBe(0);
    });
  });

  describe('streaming', () => {
    const cases: [string, GenerateRequest][] = [
      ['plain', request({ stream: true })],
      ['thinking', thinking({ stream: true, caching: session })],
      ['cut in the text', thinking({ stream: true, maxOutputTokens: 70 })],
      ['cut in the reasoning', thinking({ stream: true, maxOutputTokens: 4 })],
    ];

    it.each(cases)('%s: deltas concatenate to the result; done is generate()', async (_, req) => {
      const expected = await provider.generate(req);
      const { events, reasoning, text, done } = await collect(provider.stream(req));
      expect(done).toHaveLength(1);
      expect(events[events.length - 1]).toEqual({ type: 'done', result: expected });
      expect(reasoning).toBe(expected.reasoning ?? '');
      expect(text).toBe(expected.text ?? '');
      // Reasoning first, then text, one token per delta.
      const kinds = events.map((e) => e.type).join(',');
      expect(kinds).toMatch(/^(reasoning\.delta,)*(text\.delta,)*done$/);
      expect(events.length - 1).toBe(expected.usage.outputTokens);
      for (const e of events) if (e.type === 'reasoning.delta' || e.type === 'text.delta') expect(countTokens(e.delta)).toBe(1);
    });

    it('streams nothing but done for a prefix cache', async () => {
      const req = request({ messages: promptOf(260), caching: prefixCache });
      const { events } = await collect(provider.stream(req));
      expect(events).toEqual([{ type: 'done', result: await provider.generate(req) }]);
    });

    it('stops when aborted mid-stream, without done', async () => {
      for (const tokensPerSecond of [0, 2000]) {
        const p = new SimulatedProvider({ ...fast, tokensPerSecond });
        const controller = new AbortController();
        const events: StreamEvent[] = [];
        for await (const e of p.stream(thinking(), controller.signal)) {
          events.push(e);
          if (events.length === 3) controller.abort();
        }
        expect(events).toHaveLength(3);
        expect(events.every((e) => e.type === 'reasoning.delta')).toBe(true);
      }
    });

    it('yields nothing when aborted before the first token', async () => {
      const controller = new AbortController();
      controller.abort();
      expect((await collect(provider.stream(request(), controller.signal))).events).toEqual([]);
      const slow = new SimulatedProvider({ ...fast, latencyMs: 5000 });
      const late = new AbortController();
      setTimeout(() => late.abort(), 20);
      const started = Date.now();
      expect((await collect(slow.stream(request(), late.signal))).events).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('paces deltas at tokensPerSecond after latencyMs', async () => {
      const p = new SimulatedProvider({ latencyMs: 40, tokensPerSecond: 500, outputTokens: 21 });
      const started = Date.now();
      const times: number[] = [];
      for await (const e of p.stream(request())) {
        if (e.type === 'text.delta') times.push(Date.now() - started);
      }
      expect(times).toHaveLength(21);
      expect(times[0]).toBeGreaterThanOrEqual(35);
      // 20 gaps of 2 ms each.
      expect(times[20] - times[0]).toBeGreaterThanOrEqual(35);
    });
  });

  describe('pacing of generate()', () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

    it('uses no timers without latency', async () => {
      const before = timeouts();
      const pending = provider.generate(thinking());
      expect(timeouts()).toBe(before);
      await pending;
      let events = 0;
      for await (const _ of provider.stream(thinking())) {
        expect(timeouts()).toBe(before);
        events++;
      }
      expect(events).toBeGreaterThan(32);
    });

    it('waits latencyMs before answering', async () => {
      const p = new SimulatedProvider({ ...fast, latencyMs: 60 });
      const before = timeouts();
      const started = Date.now();
      const pending = p.generate(request());
      expect(timeouts()).toBe(before + 1);
      expect(await pending).toEqual(await provider.generate(request()));
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    });

    it('rejects with an AbortError when aborted before or during the wait', async () => {
      const pre = new AbortController();
      pre.abort();
      const aborted = { name: 'AbortError' };
      await expect(provider.generate(request(), pre.signal)).rejects.toMatchObject(aborted);
      const p = new SimulatedProvider({ ...fast, latencyMs: 5000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      const started = Date.now();
      await expect(p.generate(request(), controller.signal)).rejects.toMatchObject(aborted);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  describe('a large prompt', () => {
    afterAll(() => closeTokenCounting());

    /** The longest the event loop went without running a 5 ms ticker while `work` ran. */
    async function longestStall(work: () => Promise<unknown>): Promise<number> {
      let last = performance.now();
      let longest = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 5);
      try {
        await work();
      } finally {
        clearInterval(ticker);
      }
      return Math.max(longest, performance.now() - last);
    }

    it('is counted and hashed (seed, cache fingerprints) without blocking the event loop', async () => {
      const big: PromptMessage = { role: 'user', text: 'a'.repeat(8 * 1024 * 1024 - 64) };
      const previousCache = { messages: 1, tokens: messageTokens(big), fingerprint: fingerprint([big]) };
      const req = request({ messages: [big, { role: 'user', text: 'And now?' }], caching: session, previousCache });
      let r: GenerateResult | undefined;
      const stall = await longestStall(async () => {
        r = await provider.generate(req);
      });
      expect(r!.usage.inputTokens).toBe(promptTokens(req.messages));
      expect(r!.usage.cachedTokens).toBe(previousCache.tokens);
      expect(r!.cache!.fingerprint).toBe(fingerprint([...req.messages, { role: 'assistant', text: r!.text! }]));
      // Hashing 8 MiB three times on the event loop stalled it for well over 100 ms.
      expect(stall).toBeLessThan(60);
    });
  });
});
