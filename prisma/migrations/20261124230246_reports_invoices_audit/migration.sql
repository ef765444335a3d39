-- CreateEnum
CREATE TYPE "invoice_status" AS ENUM ('queued', 'running', 'ready', 'failed');

-- CreateEnum
CREATE TYPE "invoice_line_kind" AS ENUM ('input', 'cached_input', 'output', 'reasoning');

-- CreateTable
CREATE TABLE "usage_rollups" (
    "tenant_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "model" TEXT NOT NULL,
    "api_key_id" UUID NOT NULL,
    "price_id" UUID NOT NULL,
    "requests" BIGINT NOT NULL,
    "input_tokens" BIGINT NOT NULL,
    "cached_tokens" BIGINT NOT NULL,
    "output_tokens" BIGINT NOT NULL,
    "reasoning_tokens" BIGINT NOT NULL,
    "cost" DECIMAL(38,18) NOT NULL,
    "input_cost" DECIMAL(38,18) NOT NULL,
    "cached_input_cost" DECIMAL(38,18) NOT NULL,
    "output_cost" DECIMAL(38,18) NOT NULL,
    "reasoning_cost" DECIMAL(38,18) NOT NULL,

    CONSTRAINT "usage_rollups_pkey" PRIMARY KEY ("tenant_id","hour","model","api_key_id","price_id")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "status" "invoice_status" NOT NULL DEFAULT 'queued',
    "source" TEXT NOT NULL DEFAULT 'admin',
    "total" DECIMAL(38,18),
    "charges" INTEGER,
    "as_of" TIMESTAMPTZ(3),
    "generation" INTEGER NOT NULL DEFAULT 1,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_lines" (
    "id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "model" TEXT NOT NULL,
    "kind" "invoice_line_kind" NOT NULL,
    "price_id" UUID,
    "price_effective_from" TIMESTAMPTZ(3),
    "quantity" BIGINT NOT NULL,
    "unit_price" DECIMAL(38,18),
    "amount" DECIMAL(38,18) NOT NULL,

    CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "summary" JSONB NOT NULL,
    "status" INTEGER NOT NULL,
    "request_id" TEXT,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_rollups_hour_idx" ON "usage_rollups"("hour");

-- CreateIndex
CREATE INDEX "invoices_status_updated_at_idx" ON "invoices"("status", "updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_tenant_id_period_start_period_end_key" ON "invoices"("tenant_id", "period_start", "period_end");

-- CreateIndex
CREATE UNIQUE INDEX "invoice_lines_invoice_id_position_key" ON "invoice_lines"("invoice_id", "position");

-- CreateIndex
CREATE INDEX "audit_log_created_at_id_idx" ON "audit_log"("created_at", "id");

-- CreateIndex
CREATE INDEX "audit_log_action_created_at_idx" ON "audit_log"("action", "created_at");

-- CreateIndex
CREATE INDEX "usage_events_created_at_idx" ON "usage_events"("created_at");

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Usage rollups: every INSERT into ledger_entries adds its charges to usage_rollups in the same
-- statement's transaction (one aggregated upsert per statement, via the transition table), so the
-- rollup always equals the ledger. The ledger is append-only: INSERT is the only event to follow.
-- (Hand-written: Prisma's schema diff does not manage functions and triggers, and leaves them be.)
-- The function body is an E'' string with \073 for each semicolon: the offline migrator (the pg
-- driver adapter) splits scripts at semicolons, which would cut a $$-quoted body apart.
CREATE FUNCTION "usage_rollups_add_charges"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  -- EXECUTE: planned for each batch with its real size (a cached plan would keep the first batch''s).
  EXECUTE $q$
    INSERT INTO "usage_rollups" AS r ("tenant_id", "hour", "model", "api_key_id", "price_id", "requests", "input_tokens",
                                      "cached_tokens", "output_tokens", "reasoning_tokens", "cost", "input_cost",
                                      "cached_input_cost", "output_cost", "reasoning_cost")
    SELECT e."tenant_id", date_trunc(''hour'', e."created_at", ''UTC''), e."model", e."api_key_id",
           coalesce(n."price_id", ''00000000-0000-0000-0000-000000000000''::uuid),
           count(*), sum(e."input_tokens"), sum(e."cached_tokens"), sum(e."output_tokens"), sum(e."reasoning_tokens"),
           sum(-n."amount"), coalesce(sum(n."input_cost"), 0), coalesce(sum(n."cached_input_cost"), 0),
           coalesce(sum(n."output_cost"), 0), coalesce(sum(n."reasoning_cost"), 0)
      FROM new_entries n JOIN "usage_events" e ON e."id" = n."usage_event_id"
     WHERE n."kind" = ''charge''
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ("tenant_id", "hour", "model", "api_key_id", "price_id") DO UPDATE SET
      "requests" = r."requests" + EXCLUDED."requests",
      "input_tokens" = r."input_tokens" + EXCLUDED."input_tokens",
      "cached_tokens" = r."cached_tokens" + EXCLUDED."cached_tokens",
      "output_tokens" = r."output_tokens" + EXCLUDED."output_tokens",
      "reasoning_tokens" = r."reasoning_tokens" + EXCLUDED."reasoning_tokens",
      "cost" = r."cost" + EXCLUDED."cost",
      "input_cost" = r."input_cost" + EXCLUDED."input_cost",
      "cached_input_cost" = r."cached_input_cost" + EXCLUDED."cached_input_cost",
      "output_cost" = r."output_cost" + EXCLUDED."output_cost",
      "reasoning_cost" = r."reasoning_cost" + EXCLUDED."reasoning_cost"
  $q$\073
  RETURN NULL\073
END
';

CREATE TRIGGER "ledger_entries_usage_rollups"
  AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION "usage_rollups_add_charges"();

-- Backfill: the charges already in the ledger.
INSERT INTO "usage_rollups" ("tenant_id", "hour", "model", "api_key_id", "price_id", "requests", "input_tokens",
                             "cached_tokens", "output_tokens", "reasoning_tokens", "cost", "input_cost",
                             "cached_input_cost", "output_cost", "reasoning_cost")
SELECT e."tenant_id", date_trunc('hour', e."created_at", 'UTC'), e."model", e."api_key_id",
       coalesce(l."price_id", '00000000-0000-0000-0000-000000000000'::uuid),
       count(*), sum(e."input_tokens"), sum(e."cached_tokens"), sum(e."output_tokens"), sum(e."reasoning_tokens"),
       sum(-l."amount"), coalesce(sum(l."input_cost"), 0), coalesce(sum(l."cached_input_cost"), 0),
       coalesce(sum(l."output_cost"), 0), coalesce(sum(l."reasoning_cost"), 0)
  FROM "ledger_entries" l JOIN "usage_events" e ON e."id" = l."usage_event_id"
 WHERE l."kind" = 'charge'
 GROUP BY 1, 2, 3, 4, 5;
