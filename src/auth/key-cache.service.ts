import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { PeriodicTask } from '../common/periodic-task';
import { Env } from '../config/env';
import { PgPool } from '../prisma/pg-pool.service';
import { REDIS } from '../redis/redis.module';
import type { TenantAuth } from './auth.guards';
import { authRevision } from './auth.repository';

/** How long a looked-up key is trusted without asking Postgres again. */
const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;
/** How often each process reads the auth revision from Postgres. */
const REVISION_POLL_MS = 400;
/**
 * The cache is used only while the last successful read of the revision started this recently, so a
 * change is seen within this long even if the broadcast is lost and the poll then fails.
 */
const REVISION_FRESH_MS = 900;

interface Entry {
  auth: TenantAuth;
  expires: number;
}

/**
 * In-process cache of API key lookups (hash -> tenant, key), so the hot path does not ask Postgres
 * on every request. Revocation and suspension are broadcast on Redis pub/sub and drop the entries
 * in every process at once. A broadcast can be lost (Redis stopped, flushed, partitioned), so each
 * process also polls the auth revision in Postgres and empties the cache when it moves. While this
 * process is not subscribed, or the revision could not be read lately, the cache is not used at all.
 */
@Injectable()
export class KeyCacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyCacheService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private subscribed = false;
  private revision: bigint | null = null;
  private revisionReadAt = 0;
  private lastPollWarning = 0;
  private readonly poll = new PeriodicTask(
    REVISION_POLL_MS,
    () => this.checkRevision(),
    (err) => {
      if (Date.now() - this.lastPollWarning < 10_000) return;
      this.lastPollWarning = Date.now();
      this.logger.warn(`auth revision not read (${(err as Error)?.message ?? err}); key cache bypassed`);
    },
  );
  /** Bumped whenever entries are dropped; a lookup that started before a drop must not be cached. */
  private dropCount = 0;

  constructor(
    private readonly env: Env,
    @Inject(REDIS) private readonly publisher: Redis,
    private readonly pg: PgPool,
  ) {
    this.channel = `${env.QUEUE_PREFIX}:auth:invalidate`;
  }

  onModuleInit() {
    // Workers authenticate nobody: no cache to keep fresh.
    if (this.env.ROLE === 'worker') return;
    const sub = new Redis(this.env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
    this.subscriber = sub;
    sub.on('error', () => undefined);
    // Every (re)connection starts from an empty cache: messages sent while away are lost.
    sub.on('ready', () => {
      this.clear();
      sub.subscribe(this.channel).then(
        () => (this.subscribed = true),
        () => (this.subscribed = false),
      );
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.clear();
    });
    sub.on('message', (_channel, message: string) => this.drop(message));
    sub.connect().catch(() => undefined);
    this.poll.start();
  }

  async onApplicationShutdown() {
    this.subscriber?.disconnect();
    await this.poll.stop();
  }

  /** Pass it to set(): read it before looking the key up in Postgres. */
  get generation(): number {
    return this.dropCount;
  }

  get(hash: string): TenantAuth | null {
    if (!this.usable()) return null;
    const entry = this.entries.get(hash);
    if (!entry) return null;
    if (entry.expires < Date.now()) {
      this.entries.delete(hash);
      return null;
    }
    return entry.auth;
  }

  set(hash: string, auth: TenantAuth, generation: number) {
    if (!this.usable() || generation !== this.dropCount) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { auth, expires: Date.now() + TTL_MS });
  }

  /**
   * Drops a key (by id) or every key of a tenant here at once, and broadcasts it without waiting:
   * the caller has already bumped the auth revision, which reaches the other processes anyway.
   */
  invalidate(target: { apiKeyId?: string; tenantId?: string }): void {
    const message = target.apiKeyId ? `key:${target.apiKeyId}` : `tenant:${target.tenantId}`;
    this.drop(message);
    // The shared client's command timeout bounds this.
    this.publisher.publish(this.channel, message).catch((err) => {
      this.logger.warn(`could not broadcast ${message} (${err?.message}); other processes drop it at their next auth revision check`);
    });
  }

  private usable(): boolean {
    return this.subscribed && Date.now() - this.revisionReadAt < REVISION_FRESH_MS;
  }

  private async checkRevision() {
    const startedAt = Date.now();
    const revision = await authRevision(this.pg);
    if (revision !== this.revision) {
      this.clear();
      this.revision = revision;
    }
    this.revisionReadAt = startedAt;
  }

  private clear() {
    this.dropCount++;
    this.entries.clear();
  }

  private drop(message: string) {
    const [kind, id] = [message.slice(0, message.indexOf(':')), message.slice(message.indexOf(':') + 1)];
    this.dropCount++;
    for (const [hash, entry] of this.entries) {
      if ((kind === 'key' && entry.auth.apiKeyId === id) || (kind === 'tenant' && entry.auth.tenantId === id)) this.entries.delete(hash);
    }
  }
}
