import { jsonDigest } from './json-digest';
import { PoolFullError, TokenCountPool } from './token-count-pool';
import { closeTokenCounting, countTexts, INLINE_MAX_CHARS, promptTokensAsync, requestPromptTokens } from './token-counting';
import { countTokens, promptTokens } from './tokenizer';

const TEXTS = [
  '',
  'The quick brown fox jumps over the lazy dog.',
  '大语言模型网关按照每个请求的实际用量计费。🚀👩‍💻',
  'a'.repeat(50_000),
  `${' '.repeat(3000)}x${'!'.repeat(4000)}\n${'Z'.repeat(2000)}`,
  Array.from({ length: 500 }, (_, i) => `word${i} `).join(''),
];

describe('TokenCountPool', () => {
  const pools: TokenCountPool[] = [];
  const pool = (options: Partial<ConstructorParameters<typeof TokenCountPool>[0]> = {}) => {
    const p = new TokenCountPool({ threads: 2, maxQueue: 8, idleTimeoutMs: 60_000, ...options });
    pools.push(p);
    return p;
  };
  afterAll(() => Promise.all(pools.map((p) => p.close())));

  it('counts exactly as the calling thread does', async () => {
    expect(await pool().count(TEXTS)).toEqual(TEXTS.map(countTokens));
  });

  it('hashes exactly as the calling thread does', async () => {
    const value = ['sim-1', TEXTS.map((text) => ['user', text]), 0.5, null, 'enabled'];
    expect(await pool().digest(value)).toBe(jsonDigest(value));
  });

  it('runs at most `threads` threads and refuses work beyond maxQueue', async () => {
    const p = pool({ threads: 2, maxQueue: 2 });
    const big = ['b'.repeat(200_000)];
    const accepted = [p.count(big), p.count(big), p.count(big), p.count(big)];
    await expect(p.count(big)).rejects.toBeInstanceOf(PoolFullError);
    expect(p.threadCount).toBe(2);
    const expected = countTokens(big[0]);
    for (const counts of await Promise.all(accepted)) expect(counts).toEqual([expected]);
  });

  it('fails only the task whose thread died, and carries on with a new thread', async () => {
    const p = pool({ threads: 1 });
    // JSON.stringify throws on a BigInt inside the thread: an uncaught error ends that thread.
    const outcomes = Promise.allSettled([p.digest(10n), p.count(['after the crash'])]);
    const [crashed, next] = await outcomes;
    expect(crashed.status).toBe('rejected');
    expect(next).toEqual({ status: 'fulfilled', value: [countTokens('after the crash')] });
    expect(p.threadCount).toBe(1);
  });

  it('lets idle threads go, and starts one again when needed', async () => {
    const p = pool({ idleTimeoutMs: 50 });
    await p.count(['hello']);
    expect(p.threadCount).toBe(1);
    for (let i = 0; i < 100 && p.threadCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.threadCount).toBe(0);
    expect(await p.count(['hello again'])).toEqual([countTokens('hello again')]);
  });

  it('close() rejects waiting work, stops every thread and refuses more', async () => {
    const p = pool({ threads: 1 });
    const outcomes = Promise.allSettled([p.count(['c'.repeat(100_000)]), p.count(['waiting'])]);
    await p.close();
    const [running, waiting] = await outcomes;
    expect(running.status).toBe('rejected');
    expect(waiting).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/closed/) } });
    expect(p.threadCount).toBe(0);
    await expect(p.count(['late'])).rejects.toThrow(/closed/);
  });
});

describe('countTexts and the prompt counts', () => {
  afterAll(() => closeTokenCounting());

  it('gives the same counts inline and through the pool', async () => {
    const small = TEXTS.filter((t) => t.length <= INLINE_MAX_CHARS);
    expect(await countTexts(small)).toEqual(small.map(countTokens));
    expect(await countTexts(TEXTS)).toEqual(TEXTS.map(countTokens));
  });

  it('promptTokensAsync equals promptTokens, large or small', async () => {
    for (const text of TEXTS) {
      const messages = [{ role: 'system' as const, text: 'Be terse.' }, { role: 'user' as const, text }];
      expect(await promptTokensAsync(messages)).toBe(promptTokens(messages));
    }
  });

  it('requestPromptTokens counts a request once', async () => {
    const request = { messages: [{ role: 'user' as const, text: 'hello there' }] };
    expect(await requestPromptTokens(request)).toBe(promptTokens(request.messages));
    (request.messages as any).push({ role: 'user', text: 'more text that would change the count' });
    // Same request object: the first count is kept (requests are not changed after they are built).
    expect(await requestPromptTokens(request)).toBe(promptTokens(request.messages.slice(0, 1)));
  });
});
