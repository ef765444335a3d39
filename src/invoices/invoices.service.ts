import { InjectQueue } from '@nestjs/bullmq';
import { requireTenant } from '../prisma/require-tenant';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { isUniqueViolation, isUuid } from '../billing/ledger.service';
import { compareAmounts, formatAmount } from '../billing/money';
import { DomainError, ErrorCode, notFound } from '../common/errors';
import { Prisma } from '../generated/prisma/client';
import type { Invoice, InvoiceLine } from '../generated/prisma/client';
import { PgPool } from '../prisma/pg-pool.service';
import { PrismaService } from '../prisma/prisma.service';
import { InvoiceJob, invoiceJobId, JOBS, QUEUES } from '../queues/queues';
import { AggregateRow, KeySpec, NO_PRICE_ID } from '../reports/usage-sql';
import { aggregateUsage } from '../reports/usage.repository';
import { checkPeriod, requeueEarlyInvoices, staleQueuedInvoices } from './invoices.repository';
import { buildInvoiceLines, ChargeGroup, displayRounding, PriceInfo } from './invoice-lines';
import { Period, previousMonth } from './period';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { invoiceReadyEvent } from '../webhooks/webhook-events';
import { emitWebhook } from '../webhooks/webhook-outbox';

export type InvoiceSource = 'admin' | 'monthly';

/** Thrown while usage events of the period are still uncharged: the job retries later. */
export class InvoiceNotSettledError extends Error {}

export type InvoiceWithLines = Invoice & { lines: InvoiceLine[]; tenant: { name: string } };

/** Group keys of an invoice: model and price version. */
const INVOICE_KEYS: KeySpec[] = [
  { alias: 'model', rollup: Prisma.sql`r.model`, raw: Prisma.sql`e.model` },
  {
    alias: 'price_id',
    rollup: Prisma.sql`r.price_id::text`,
    raw: Prisma.sql`coalesce(l.price_id, ${NO_PRICE_ID}::uuid)::text`,
  },
];

export const invoiceNotReady = (id: string, status: string) =>
  new DomainError(ErrorCode.InvoiceNotReady, `Invoice '${id}' is not ready yet (status: ${status}).`);

const invoiceNotFound = (id: string) => notFound(`No invoice found with id '${id.slice(0, 100)}'.`);

/**
 * Invoices: one per tenant and half-open period [period_start, period_end) (unique), covering the
 * charges of the usage events created in the period (usage_events.created_at: the time of use,
 * as the usage reports). Built by a BullMQ job; the total is the exact sum of those ledger charges
 * and the lines add up to it exactly.
 */
@Injectable()
export class InvoicesService {
  private readonly logger = new Logger(InvoicesService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly pg: PgPool,
    @InjectQueue(QUEUES.invoices) private readonly queue: Queue<InvoiceJob>,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  /**
   * The tenant's invoice for the period: created and queued, or the existing one. An existing
   * invoice is queued again (same id, next generation) when it failed, or when it was built before
   * its period ended and the period is now over (the final build).
   */
  async request(tenantId: string, period: Period, source: InvoiceSource = 'admin'): Promise<{ invoice: Invoice; created: boolean }> {
    await requireTenant(this.prisma, tenantId, { param: 'tenant_id' });
    const where = { tenantId_periodStart_periodEnd: { tenantId, periodStart: period.start, periodEnd: period.end } };
    let invoice = await this.prisma.invoice.findUnique({ where });
    let created = false;
    if (!invoice) {
      try {
        invoice = await this.prisma.invoice.create({ data: { tenantId, periodStart: period.start, periodEnd: period.end, source } });
        created = true;
      } catch (err) {
        // A concurrent request created it first: that one is the invoice.
        if (!isUniqueViolation(err)) throw err;
        invoice = await this.prisma.invoice.findUniqueOrThrow({ where });
      }
    } else if (this.needsRebuild(invoice)) {
      const requeued = await this.prisma.invoice.updateMany({
        where: { id: invoice.id, generation: invoice.generation },
        data: { status: 'queued', generation: { increment: 1 }, error: null },
      });
      invoice = await this.prisma.invoice.findUniqueOrThrow({ where: { id: invoice.id } });
      if (requeued.count) this.logger.log(`invoice ${invoice.id} queued again (generation ${invoice.generation})`);
    }
    // Not awaited: with Redis away the answer must not hang; the sweep queues what was missed.
    if (invoice.status === 'queued') void this.enqueue(invoice);
    return { invoice, created };
  }

  private needsRebuild(invoice: Invoice): boolean {
    if (invoice.status === 'failed') return true;
    return invoice.status === 'ready' && !!invoice.asOf && invoice.asOf < invoice.periodEnd && Date.now() >= invoice.periodEnd.getTime();
  }

  /** Queues the build; if Redis is away the invoice stays queued and the sweep queues it later. */
  async enqueue(invoice: Pick<Invoice, 'id' | 'generation'>): Promise<void> {
    const job: InvoiceJob = { invoiceId: invoice.id, generation: invoice.generation };
    try {
      await this.queue.add(JOBS.buildInvoice, job, { jobId: invoiceJobId(job) });
    } catch (err) {
      this.logger.warn(`invoice ${invoice.id} not queued (${(err as Error)?.message ?? err}); the sweep will queue it`);
    }
  }

  /** Issues last month's invoices (relative to `at`, UTC) for every active tenant that existed then. Idempotent. */
  async issueMonthlyInvoices(at: Date = new Date()) {
    const period = previousMonth(at);
    const tenants = await this.prisma.tenant.findMany({
      where: { status: 'active', createdAt: { lt: period.end } },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    const invoices: Array<{ tenant_id: string; id: string; created: boolean; status: string }> = [];
    for (const t of tenants) {
      const { invoice, created } = await this.request(t.id, period, 'monthly');
      invoices.push({ tenant_id: t.id, id: invoice.id, created, status: invoice.status });
    }
    this.logger.log(
      `monthly invoices ${period.start.toISOString()}..${period.end.toISOString()}: ${invoices.filter((i) => i.created).length} new, ${invoices.length} in all`,
    );
    return { period_start: period.start.toISOString(), period_end: period.end.toISOString(), invoices };
  }

  /**
   * The sweep (worker processes, every 30 s): invoices still queued after `olderThanMs` (Redis was
   * away when they were created) are queued again, and invoices built before their period ended
   * get their final build once it has been over for `graceMs`. On plain pg: a worker with no
   * invoice to build never starts the Prisma client.
   */
  async sweep(olderThanMs = 30_000, graceMs = 5 * 60_000): Promise<number> {
    const stale = await staleQueuedInvoices(this.pg, new Date(Date.now() - olderThanMs), 500);
    for (const inv of stale) await this.enqueue(inv);
    const early = await requeueEarlyInvoices(this.pg, graceMs);
    for (const inv of early) await this.enqueue(inv);
    return stale.length + early.length;
  }

  /** The invoice; with `tenantId`, only that tenant's (another tenant's id is a 404). */
  async find(id: string, tenantId?: string): Promise<InvoiceWithLines> {
    const invoice = isUuid(id)
      ? await this.prisma.invoice.findFirst({
          where: { id, ...(tenantId !== undefined ? { tenantId } : {}) },
          include: { lines: { orderBy: { position: 'asc' } }, tenant: { select: { name: true } } },
        })
      : null;
    if (!invoice) throw invoiceNotFound(id);
    return invoice;
  }

  /**
   * The job: computes the lines and the total in one REPEATABLE READ snapshot and stores them.
   * Returns false when the job is stale (the invoice was queued again, or is already built).
   * Throws InvoiceNotSettledError while usage events of the period are uncharged (retried).
   */
  async build(job: InvoiceJob): Promise<boolean> {
    const claimed = await this.prisma.invoice.updateMany({
      where: { id: job.invoiceId, generation: job.generation, status: { in: ['queued', 'running'] } },
      data: { status: 'running' },
    });
    if (!claimed.count) return false;
    const invoice = await this.prisma.invoice.findUniqueOrThrow({ where: { id: job.invoiceId } });
    const range = { from: invoice.periodStart, to: invoice.periodEnd };

    const snapshot = await this.prisma.$transaction(
      async (tx) => {
        const { asOf, uncharged, ledgerTotal } = await checkPeriod(tx, invoice.tenantId, range);
        if (uncharged > 0) return { asOf, uncharged, ledgerTotal, groups: [] as AggregateRow[] };
        const groups = await aggregateUsage(tx, { tenantId: invoice.tenantId, range, keys: INVOICE_KEYS, chargedOnly: true });
        return { asOf, uncharged, ledgerTotal, groups };
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: 120_000, maxWait: 10_000 },
    );
    if (snapshot.uncharged > 0) {
      const message = `waiting for ${snapshot.uncharged} uncharged usage event(s) of the period to be charged`;
      await this.prisma.invoice.updateMany({ where: { id: invoice.id, generation: job.generation }, data: { status: 'queued', error: message } });
      throw new InvoiceNotSettledError(message);
    }

    const groups: ChargeGroup[] = snapshot.groups.map((g) => ({
      model: g.model!,
      priceId: g.price_id === NO_PRICE_ID ? null : g.price_id,
      requests: g.requests,
      inputTokens: g.input_tokens,
      cachedTokens: g.cached_tokens,
      outputTokens: g.output_tokens,
      reasoningTokens: g.reasoning_tokens,
      cost: g.cost,
      inputCost: g.input_cost,
      cachedInputCost: g.cached_input_cost,
      outputCost: g.output_cost,
      reasoningCost: g.reasoning_cost,
    }));
    const priceIds = [...new Set(groups.flatMap((g) => (g.priceId ? [g.priceId] : [])))];
    const prices = new Map<string, PriceInfo>(
      (await this.prisma.price.findMany({ where: { id: { in: priceIds } } })).map((p) => [
        p.id,
        { id: p.id, effectiveFrom: p.effectiveFrom, input: p.inputPrice.toFixed(), cachedInput: p.cachedInputPrice.toFixed(), output: p.outputPrice.toFixed() },
      ]),
    );
    const built = buildInvoiceLines(groups, prices);
    // The rollups and the ledger itself must agree to the last digit; otherwise issue nothing.
    if (compareAmounts(built.total, snapshot.ledgerTotal) !== 0) {
      throw new Error(`invoice total ${built.total} differs from the ledger's ${formatAmount(snapshot.ledgerTotal)}; not issued`);
    }
    for (const l of built.priceMismatches) {
      this.logger.warn(`invoice ${invoice.id}: ${l.model} ${l.kind} amount ${l.amount} is not quantity x unit price (${l.quantity} x ${l.unitPrice})`);
    }

    const done = await this.prisma.$transaction(async (tx) => {
      const owned = await tx.invoice.updateMany({
        where: { id: invoice.id, generation: job.generation, status: 'running' },
        data: { status: 'ready', total: built.total, charges: built.charges, asOf: snapshot.asOf, completedAt: new Date(), error: null },
      });
      if (!owned.count) return null;
      await tx.invoiceLine.deleteMany({ where: { invoiceId: invoice.id } });
      await tx.invoiceLine.createMany({
        data: built.lines.map((l, position) => ({
          invoiceId: invoice.id,
          position,
          model: l.model,
          kind: l.kind,
          priceId: l.priceId,
          priceEffectiveFrom: l.priceEffectiveFrom,
          quantity: l.quantity,
          unitPrice: l.unitPrice,
          amount: l.amount,
        })),
      });
      const event = invoiceReadyEvent(
        {
          tenant_id: invoice.tenantId,
          invoice_id: invoice.id,
          period_start: invoice.periodStart.toISOString(),
          period_end: invoice.periodEnd.toISOString(),
          total: built.total,
        },
        job.generation,
      );
      return emitWebhook(tx, event);
    });
    if (!done) return false;
    void this.webhooks.enqueue(done);
    this.logger.log(`invoice ${invoice.id} ready: ${built.lines.length} lines, ${built.charges} charges, total ${built.total}`);
    return true;
  }

  /** The job failed for good: the invoice is marked failed (POST it again to retry). */
  async markFailed(job: InvoiceJob, message: string): Promise<void> {
    await this.prisma.invoice.updateMany({
      where: { id: job.invoiceId, generation: job.generation, status: { in: ['queued', 'running'] } },
      data: { status: 'failed', error: message.slice(0, 1000) },
    });
  }
}

/** The invoice as the API shows it: exact amounts, plus the display rounding (see README). */
export function presentInvoice(invoice: InvoiceWithLines | (Invoice & { lines: InvoiceLine[] })) {
  const ready = invoice.status === 'ready';
  const lines = ready ? invoice.lines : [];
  const total = ready && invoice.total ? invoice.total.toFixed() : null;
  const display = total !== null ? displayRounding(lines.map((l) => l.amount.toFixed()), total) : null;
  return {
    id: invoice.id,
    object: 'invoice' as const,
    tenant_id: invoice.tenantId,
    period_start: invoice.periodStart.toISOString(),
    period_end: invoice.periodEnd.toISOString(),
    status: invoice.status,
    currency: 'USD',
    lines: lines.map((l, i) => ({
      model: l.model,
      kind: l.kind,
      quantity: Number(l.quantity),
      unit_price: l.unitPrice ? l.unitPrice.toFixed() : null,
      amount: l.amount.toFixed(),
      amount_rounded: display!.lineAmounts[i],
      price_id: l.priceId,
      price_effective_from: l.priceEffectiveFrom ? l.priceEffectiveFrom.toISOString() : null,
    })),
    total,
    total_rounded: display?.totalRounded ?? null,
    rounding_adjustment: display?.adjustment ?? null,
    charges: ready ? invoice.charges : null,
    source: invoice.source,
    as_of: invoice.asOf ? invoice.asOf.toISOString() : null,
    error: invoice.error,
    created_at: invoice.createdAt.toISOString(),
    completed_at: invoice.completedAt ? invoice.completedAt.toISOString() : null,
  };
}

export type InvoiceView = ReturnType<typeof presentInvoice>;
