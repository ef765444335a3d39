import { Injectable } from '@nestjs/common';
import { invalidValue, notFound } from '../common/errors';
import { isUuid, newUuid } from '../common/ids';
import { Env } from '../config/env';
import type { Prisma, WebhookEndpoint } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { CreateWebhookDto } from './dto/create-webhook.dto';
import { destinationProblem, Resolver, systemResolver, urlProblem } from './destination';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from './webhook-events';
import { newWebhookSecret } from './webhook-signing';

export const DEFAULT_DELIVERIES_LIMIT = 20;
export const MAX_DELIVERIES_LIMIT = 100;

/** An endpoint as listed: never the secret. */
const PUBLIC_FIELDS = { id: true, url: true, events: true, tenantId: true, createdAt: true } satisfies Prisma.WebhookEndpointSelect;
type PublicEndpoint = Pick<WebhookEndpoint, 'id' | 'url' | 'events' | 'tenantId' | 'createdAt'>;

const presentEndpoint = (w: PublicEndpoint) => ({
  id: w.id,
  object: 'webhook_endpoint' as const,
  url: w.url,
  events: w.events,
  tenant_id: w.tenantId,
  created_at: w.createdAt.toISOString(),
});

const endpointNotFound = (id: string) => notFound(`No webhook found with id '${id.slice(0, 100)}'.`);

/** Webhook endpoints (admin) and their deliveries. */
@Injectable()
export class WebhooksService {
  /** Replaceable in tests that need a name to resolve to a given address. */
  resolver: Resolver = systemResolver;

  constructor(
    private readonly prisma: PrismaService,
    private readonly env: Env,
  ) {}

  /** Creates the endpoint; the answer is the only time its secret is shown. */
  async create(dto: CreateWebhookDto) {
    const unknown = dto.events.findIndex((e) => !isWebhookEventType(e));
    if (unknown >= 0) {
      throw invalidValue(`events[${unknown}]`, `Unknown event type '${dto.events[unknown].slice(0, 100)}'; one of: ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
    }
    const problem = urlProblem(dto.url);
    if (problem) throw invalidValue('url', problem);
    const url = new URL(dto.url);
    if (this.env.WEBHOOK_ALLOW_PRIVATE !== 'true') {
      const refused = await destinationProblem(url, this.resolver);
      if (refused) throw invalidValue('url', refused);
    }
    const tenantId = dto.tenant_id ?? null;
    if (tenantId !== null && !(isUuid(tenantId) && (await this.prisma.tenant.findUnique({ where: { id: tenantId }, select: { id: true } })))) {
      throw invalidValue('tenant_id', `No tenant found with id '${tenantId.slice(0, 100)}'.`);
    }
    const secret = newWebhookSecret();
    const created = await this.prisma.webhookEndpoint.create({
      data: { id: newUuid(), url: dto.url, events: [...new Set(dto.events)], tenantId, secret },
      select: PUBLIC_FIELDS,
    });
    return { ...presentEndpoint(created), secret };
  }

  async list() {
    const rows = await this.prisma.webhookEndpoint.findMany({ select: PUBLIC_FIELDS, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return { object: 'list' as const, data: rows.map(presentEndpoint) };
  }

  /** Removes the endpoint with its deliveries (a job still queued for one finds nothing to send). */
  async remove(id: string) {
    const deleted = isUuid(id) ? await this.prisma.webhookEndpoint.deleteMany({ where: { id } }) : { count: 0 };
    if (!deleted.count) throw endpointNotFound(id);
    return { id, object: 'webhook_endpoint' as const, deleted: true };
  }

  /** The endpoint's deliveries, newest first, each with its attempts. `after`: the last delivery id of the previous page. */
  async deliveries(endpointId: string, query: { limit?: unknown; after?: unknown }) {
    const limit = parseLimit(query.limit);
    const endpoint = isUuid(endpointId) ? await this.prisma.webhookEndpoint.findUnique({ where: { id: endpointId }, select: { id: true } }) : null;
    if (!endpoint) throw endpointNotFound(endpointId);
    const and: Prisma.WebhookDeliveryWhereInput[] = [{ endpointId }];
    if (query.after !== undefined && query.after !== '') {
      const cursor = isUuid(query.after)
        ? await this.prisma.webhookDelivery.findFirst({ where: { id: query.after, endpointId }, select: { id: true, createdAt: true } })
        : null;
      if (!cursor) throw invalidValue('after', `No delivery '${String(query.after).slice(0, 100)}' of this webhook.`);
      and.push({ OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] });
    }
    const rows = await this.prisma.webhookDelivery.findMany({
      where: { AND: and },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: { event: { select: { type: true } }, history: { orderBy: { attemptedAt: 'asc' } } },
    });
    return {
      object: 'list' as const,
      data: rows.slice(0, limit).map((d) => ({
        id: d.id,
        event_id: d.eventId,
        type: d.event.type,
        status: d.status,
        attempts: d.attempts,
        last_status_code: d.lastStatusCode,
        last_error: d.lastError,
        next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
        created_at: d.createdAt.toISOString(),
        delivered_at: d.deliveredAt ? d.deliveredAt.toISOString() : null,
        history: d.history.map((a) => ({
          attempted_at: a.attemptedAt.toISOString(),
          status_code: a.statusCode,
          error: a.error,
          duration_ms: a.durationMs,
        })),
      })),
      has_more: rows.length > limit,
    };
  }
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_DELIVERIES_LIMIT;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DELIVERIES_LIMIT) throw invalidValue('limit', `'limit' must be an integer between 1 and ${MAX_DELIVERIES_LIMIT}.`);
  return n;
}
