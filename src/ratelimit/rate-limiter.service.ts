import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { DomainError, ErrorCode } from '../common/errors';
import { TickBatch } from '../common/tick-batch';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS } from '../redis/redis.module';

export interface KeyLimits {
  /** Requests per minute; null = unlimited. */
  rpm: number | null;
  /** Tokens per minute (prompt + most output); null = unlimited. */
  tpm: number | null;
}

const WINDOW_MS = 60_000;

/**
 * Both limits in one atomic step, per key and per fixed minute window: counts are only added when
 * both fit, so a refused request uses up nothing. Shared by every process through Redis.
 * KEYS: requests counter, tokens counter. ARGV: rpm (0 = none), tpm (0 = none), tokens, window ms.
 * Returns {allowed, requests used, tokens used, ms to reset}.
 */
const SCRIPT = `
local rpm, tpm, tokens, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local used_r = tonumber(redis.call('GET', KEYS[1]) or '0')
local used_t = tonumber(redis.call('GET', KEYS[2]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = window end
if (rpm > 0 and used_r + 1 > rpm) or (tpm > 0 and used_t + tokens > tpm) then
  return {0, used_r, used_t, ttl}
end
used_r = redis.call('INCR', KEYS[1])
used_t = redis.call('INCRBY', KEYS[2], tokens)
if used_r == 1 then redis.call('PEXPIRE', KEYS[1], window) end
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], window) end
return {1, used_r, used_t, ttl}
`;

/** "1s", "6m0s": the duration format of OpenAI's x-ratelimit-reset-* headers. */
export function formatReset(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export function rateHeaders(limits: KeyLimits, usedRequests: number, usedTokens: number, resetMs: number): Record<string, string> {
  const h: Record<string, string> = {};
  if (limits.rpm) {
    h['x-ratelimit-limit-requests'] = String(limits.rpm);
    h['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.rpm - usedRequests));
    h['x-ratelimit-reset-requests'] = formatReset(resetMs);
  }
  if (limits.tpm) {
    h['x-ratelimit-limit-tokens'] = String(limits.tpm);
    h['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpm - usedTokens));
    h['x-ratelimit-reset-tokens'] = formatReset(resetMs);
  }
  return h;
}

type Reply = [allowed: number, usedRequests: number, usedTokens: number, resetMs: number];

interface Check {
  keys: [string, string];
  args: [number, number, number, number];
  settle: (reply: Reply | Error) => void;
}

/**
 * Per-key requests-per-minute and tokens-per-minute limits, atomic in Redis. The checks of one
 * turn of the event loop go to Redis in one pipeline (one write, one read), each its own script
 * call, run in order: the same answers as one call each.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private lastFailureLog = 0;
  private unloggedFailures = 0;
  private readonly checks = new TickBatch<Check>((batch) => this.send(batch));

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: Env,
    private readonly metrics: MetricsService,
  ) {
    this.redis.defineCommand('tollgateRateLimit', { numberOfKeys: 2, lua: SCRIPT });
  }

  /** Counted every time; logged at most every 10 s (an outage would otherwise log every request). */
  private failOpen(err: Error) {
    const reason = /timed? ?out/i.test(err.message) ? 'timeout' : 'error';
    this.metrics.rateLimitUnchecked.inc({ reason });
    this.unloggedFailures++;
    if (Date.now() - this.lastFailureLog < 10_000) return;
    this.logger.warn(`rate limits not checked for ${this.unloggedFailures} request(s) (${err.message}); letting them through`);
    this.lastFailureLog = Date.now();
    this.unloggedFailures = 0;
  }

  /**
   * Counts one request of `tokens` tokens against the key's limits, or throws 429
   * rate_limit_exceeded with retry-after and the x-ratelimit-* headers. Returns the headers to
   * send on success. If Redis cannot be asked (an error, or no answer within the client's command
   * timeout), the request goes through with no x-ratelimit headers: limits protect capacity; money
   * is protected by the balance reservation, which lives in Postgres.
   */
  async consume(apiKeyId: string, limits: KeyLimits, tokens: number): Promise<Record<string, string>> {
    if (!limits.rpm && !limits.tpm) return {};
    const window = Math.floor(Date.now() / WINDOW_MS);
    const base = `${this.env.QUEUE_PREFIX}:rl:${apiKeyId}:${window}`;
    const reply = await new Promise<Reply | Error>((settle) =>
      this.checks.push({ keys: [`${base}:r`, `${base}:t`], args: [limits.rpm ?? 0, limits.tpm ?? 0, tokens, WINDOW_MS], settle }),
    );
    if (reply instanceof Error) {
      this.failOpen(reply);
      return {};
    }
    const [allowed, usedRequests, usedTokens, resetMs] = reply;
    const headers = rateHeaders(limits, usedRequests, usedTokens, resetMs);
    if (allowed) return headers;
    const requestsOver = !!limits.rpm && usedRequests + 1 > limits.rpm;
    this.metrics.rateLimited.inc({ kind: requestsOver ? 'requests' : 'tokens' });
    const what = requestsOver ? `requests per minute (limit ${limits.rpm})` : `tokens per minute (limit ${limits.tpm}, used ${usedTokens}, requested ${tokens})`;
    throw new DomainError(ErrorCode.RateLimited, `Rate limit reached for this API key on ${what}. Please try again in ${formatReset(resetMs)}.`, {
      rateLimit: headers,
      retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
    });
  }

  private send(batch: Check[]) {
    const redis = this.redis as Redis & { tollgateRateLimit(...args: unknown[]): Promise<Reply> };
    if (batch.length === 1) {
      const [c] = batch;
      redis.tollgateRateLimit(...c.keys, ...c.args).then(c.settle, (err: Error) => c.settle(err));
      return;
    }
    const pipeline = redis.pipeline() as unknown as { tollgateRateLimit(...args: unknown[]): unknown; exec(): Promise<[Error | null, unknown][] | null> };
    for (const c of batch) pipeline.tollgateRateLimit(...c.keys, ...c.args);
    pipeline.exec().then(
      (results) => batch.forEach((c, i) => c.settle(results?.[i]?.[0] ?? (results?.[i]?.[1] as Reply | undefined) ?? new Error('no reply from Redis'))),
      (err: Error) => batch.forEach((c) => c.settle(err)),
    );
  }
}
