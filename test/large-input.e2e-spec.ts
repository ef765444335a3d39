import { promptTokens } from '../src/providers/tokenizer';
import { scrambled } from './support/scrambled-text';
import { ensureSeedModel, http, SEED_MODEL, startApp, TestApp } from './support/harness';

const MIB = 1024 * 1024;
/** Longest time between two /health answers polled every 50 ms: generous for a loaded 2-core CI machine (counting inline stalled it for seconds). */
const HEALTH_MAX_MS = 500;

/** Long runs of every kind the pre-tokenizer keeps as one piece, about 2 MiB of UTF-8 in all. */
function mixedLongRuns(): string {
  return [
    'b'.repeat(MIB / 4),
    ' '.repeat(MIB / 8),
    '!'.repeat(MIB / 8),
    scrambled(MIB / 4, 'abcdefghijklmnopqrstuvwxyz', 1),
    scrambled(MIB / 8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2),
    scrambled(MIB / 12, '中文字符测试数据的一是不了人我在有他这', 3),
    '\n'.repeat(MIB / 16),
  ].join('');
}

/**
 * Calls GET /health every 50 ms until stopped and keeps the time between consecutive answers:
 * the server runs in this process, so a blocked event loop shows as a long gap whether it caught
 * a request in flight or the 50 ms pause between two.
 */
function pollHealth(baseUrl: string) {
  const gaps: number[] = [];
  let running = true;
  const loop = (async () => {
    let last = performance.now();
    while (running) {
      const res = await fetch(`${baseUrl}/health`);
      await res.text();
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return gaps;
    },
  };
}

describe('large inputs are counted without stalling the server', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
    await ensureSeedModel(t);
  });

  afterAll(async () => {
    await t.close();
  });

  async function sendWhilePolling(key: string, input: string) {
    const poller = pollHealth(t.baseUrl);
    await new Promise((r) => setTimeout(r, 120)); // a few answers before the big body lands
    const res = await http(t.baseUrl, 'POST', '/v1/responses', { token: key, body: { model: SEED_MODEL, input, max_output_tokens: 16 } });
    const gaps = await poller.stop();
    return { res, gaps };
  }

  it('refuses 2 MiB of one letter from a tenant with a tiny balance (429), /health answering throughout', async () => {
    const tiny = await t.tenant('0.000001');
    const { res, gaps } = await sendWhilePolling(tiny.key, 'a'.repeat(2 * MIB));
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...gaps)).toBeLessThan(HEALTH_MAX_MS);
  }, 60_000);

  it('answers 2 MiB of mixed long runs for a funded tenant with the exact count, /health answering throughout', async () => {
    const funded = await t.tenant('100');
    const input = mixedLongRuns();
    const { res, gaps } = await sendWhilePolling(funded.key, input);
    expect(res.status).toBe(200);
    expect(res.body.usage.input_tokens).toBe(promptTokens([{ role: 'user', text: input }]));
    expect(res.body.usage.output_tokens).toBeGreaterThan(0);
    expect(res.body.usage.output_tokens).toBeLessThanOrEqual(16);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...gaps)).toBeLessThan(HEALTH_MAX_MS);
  }, 120_000);
});
