import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { Env } from '../config/env';
import { REDIS } from '../redis/redis.module';
import type { TenantAuth } from './auth.guards';

/** How long a looked-up key is trusted without asking Postgres again. */
const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  auth: TenantAuth;
  expires: number;
}

/**
 * In-process cache of API key lookups (hash -> tenant, key), so the hot path does not ask Postgres
 * on every request. Revocation and suspension are broadcast on Redis pub/sub and drop the entries
 * in every process at once; while this process is not subscribed (Redis away), the cache is not
 * used at all, so a revoked key can never outlive its revocation by more than a message's flight.
 */
@Injectable()
export class KeyCacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyCacheService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private subscribed = false;

  constructor(
    private readonly env: Env,
    @Inject(REDIS) private readonly publisher: Redis,
  ) {
    this.channel = `${env.QUEUE_PREFIX}:auth:invalidate`;
  }

  onModuleInit() {
    const sub = new Redis(this.env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
    this.subscriber = sub;
    sub.on('error', () => undefined);
    // Every (re)connection starts from an empty cache: messages sent while away are lost.
    sub.on('ready', () => {
      this.entries.clear();
      sub.subscribe(this.channel).then(
        () => (this.subscribed = true),
        () => (this.subscribed = false),
      );
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.entries.clear();
    });
    sub.on('message', (_channel, message: string) => this.drop(message));
    sub.connect().catch(() => undefined);
  }

  async onApplicationShutdown() {
    this.subscriber?.disconnect();
  }

  get(hash: string): TenantAuth | null {
    if (!this.subscribed) return null;
    const entry = this.entries.get(hash);
    if (!entry) return null;
    if (entry.expires < Date.now()) {
      this.entries.delete(hash);
      return null;
    }
    return entry.auth;
  }

  set(hash: string, auth: TenantAuth) {
    if (!this.subscribed) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { auth, expires: Date.now() + TTL_MS });
  }

  /** Drops a key (by id) or every key of a tenant, here at once and in every other process. */
  async invalidate(target: { apiKeyId?: string; tenantId?: string }) {
    const message = target.apiKeyId ? `key:${target.apiKeyId}` : `tenant:${target.tenantId}`;
    this.drop(message);
    await this.publisher.publish(this.channel, message).catch((err) => {
      this.logger.warn(`could not broadcast ${message} (${err?.message}); other processes drop it within ${TTL_MS / 1000} s`);
    });
  }

  private drop(message: string) {
    const [kind, id] = [message.slice(0, message.indexOf(':')), message.slice(message.indexOf(':') + 1)];
    for (const [hash, entry] of this.entries) {
      if ((kind === 'key' && entry.auth.apiKeyId === id) || (kind === 'tenant' && entry.auth.tenantId === id)) this.entries.delete(hash);
    }
  }
}
