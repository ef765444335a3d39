import { Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import { serviceUnavailable } from '../common/errors';
import { PgPool } from '../prisma/pg-pool.service';
import { keyByHash, type KeyRow } from './auth.repository';

/**
 * Most key lookups running at once. Unknown keys are never cached, so a flood of made-up keys
 * misses every time: without a bound it would take every pooled connection from admissions.
 */
export const KEY_LOOKUP_CONCURRENCY = 3;
/** Most lookups running or waiting for a turn; past it a request is refused with a 503 instead of queueing. */
export const KEY_LOOKUP_MAX_QUEUED = 2_000;

interface Running {
  generation: number;
  row: Promise<KeyRow | null>;
}

/**
 * Key-cache misses go to Postgres through here: a bounded number at a time, and once per key
 * however many requests are waiting for it (a cold cache, or one emptied by a revocation, meets a
 * burst of one key's requests). A request joins a running lookup only if no revocation happened
 * since it started (same cache generation), so a revoked key is never admitted from a stale read.
 */
@Injectable()
export class KeyLookups {
  private readonly limit = pLimit(KEY_LOOKUP_CONCURRENCY);
  private readonly running = new Map<string, Running>();

  constructor(private readonly pg: PgPool) {}

  byHash(hash: string, generation: number): Promise<KeyRow | null> {
    const joined = this.running.get(hash);
    if (joined && joined.generation === generation) return joined.row;
    if (this.limit.activeCount + this.limit.pendingCount >= KEY_LOOKUP_MAX_QUEUED) {
      return Promise.reject(serviceUnavailable('The service is busy checking API keys; retry shortly.'));
    }
    const row = this.limit(() => keyByHash(this.pg, hash));
    const entry = { generation, row };
    this.running.set(hash, entry);
    const forget = () => {
      if (this.running.get(hash) === entry) this.running.delete(hash);
    };
    row.then(forget, forget);
    return row;
  }
}
