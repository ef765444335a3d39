import { Injectable, Logger } from '@nestjs/common';
import { Env } from '../config/env';
import { MetricsService } from '../metrics/metrics.service';
import { PrismaService } from '../prisma/prisma.service';
import { retryDelayMs } from './retry-schedule';
import { postWebhook, SendResult } from './webhook-sender';
import { signWebhook } from './webhook-signing';

/** The attempt failed and the delivery is still pending: BullMQ retries the job after its back-off. */
export class WebhookAttemptFailed extends Error {}

export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped';

interface Claimed {
  attempts: number;
  url: string;
  secret: string;
  event_id: string;
  type: string;
  body: string;
}

/** The lease an attempt holds beyond its timeout, so a slow but live attempt is never sent twice. */
const LEASE_MARGIN_MS = 15_000;

/**
 * Sends one delivery once. The delivery row decides who may send: an attempt first claims it with
 * a conditional write (pending and not leased by a live attempt), and only a pending row becomes
 * delivered or failed, so two processes holding the same job never both send it.
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger(WebhookDeliverer.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly env: Env,
    private readonly metrics: MetricsService,
  ) {}

  /** Throws WebhookAttemptFailed when this attempt failed and another one is due. */
  async attempt(deliveryId: string): Promise<DeliveryOutcome> {
    const claimed = await this.claim(deliveryId);
    if (!claimed) return this.skip(deliveryId);
    const attemptedAt = new Date();
    const headers = signWebhook(claimed.secret, claimed.event_id, claimed.body, attemptedAt);
    const sent = await postWebhook(claimed.url, claimed.body, { ...headers }, this.env.WEBHOOK_TIMEOUT_MS, this.env.WEBHOOK_ALLOW_PRIVATE === 'true');
    const ok = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300;
    // Null: the endpoint was deleted meanwhile (its deliveries with it).
    const status = (await this.record(deliveryId, claimed.attempts, attemptedAt, sent, ok)) ?? 'skipped';
    this.metrics.webhookAttempts.inc({ type: claimed.type, outcome: status === 'pending' ? 'retry' : ok ? 'delivered' : 'failed' });
    if (status === 'pending') {
      throw new WebhookAttemptFailed(`attempt ${claimed.attempts}: ${sent.statusCode ?? sent.error}`);
    }
    if (status === 'failed') this.logger.warn(`webhook delivery ${deliveryId} failed after ${claimed.attempts} attempts: ${sent.statusCode ?? sent.error}`);
    return status;
  }

  private async claim(deliveryId: string): Promise<Claimed | null> {
    const rows = await this.prisma.$queryRaw<Claimed[]>`
      UPDATE webhook_deliveries d
         SET attempts = d.attempts + 1,
             locked_until = now() + ${this.env.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS} * interval '1 millisecond'
        FROM webhook_endpoints w, webhook_events e
       WHERE d.id = ${deliveryId}::uuid AND d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until < now())
         AND w.id = d.endpoint_id AND e.id = d.event_id
      RETURNING d.attempts, w.url, w.secret, e.id AS event_id, e.type, e.body`;
    return rows[0] ?? null;
  }

  /** Not claimed: done, gone (endpoint deleted), or leased by a live attempt elsewhere (retry later). */
  private async skip(deliveryId: string): Promise<DeliveryOutcome> {
    const [row] = await this.prisma.$queryRaw<Array<{ status: string }>>`SELECT status::text FROM webhook_deliveries WHERE id = ${deliveryId}::uuid`;
    if (row?.status === 'pending') throw new WebhookAttemptFailed(`delivery ${deliveryId} is being attempted elsewhere`);
    return 'skipped';
  }

  /** The attempt row and the delivery's new state, in one statement. Returns that state. */
  private async record(deliveryId: string, attempts: number, at: Date, sent: SendResult, ok: boolean): Promise<'pending' | 'delivered' | 'failed' | null> {
    const next = new Date(Date.now() + retryDelayMs(attempts, this.env.WEBHOOK_RETRY_BASE_MS));
    const rows = await this.prisma.$queryRaw<Array<{ status: 'pending' | 'delivered' | 'failed' }>>`
      WITH attempt AS (
        INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, error, duration_ms)
        VALUES (gen_random_uuid(), ${deliveryId}::uuid, ${at}, ${sent.statusCode}, ${sent.error}, ${sent.durationMs})
      )
      UPDATE webhook_deliveries
         SET status = (CASE WHEN ${ok} THEN 'delivered' WHEN attempts >= ${this.env.WEBHOOK_MAX_ATTEMPTS} THEN 'failed' ELSE 'pending' END)::webhook_delivery_status,
             delivered_at = CASE WHEN ${ok} THEN now() END,
             last_status_code = ${sent.statusCode},
             last_error = ${sent.error},
             next_attempt_at = ${next},
             locked_until = NULL
       WHERE id = ${deliveryId}::uuid AND status = 'pending'
      RETURNING status::text AS status`;
    return rows[0]?.status ?? null;
  }
}
