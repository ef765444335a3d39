-- DropIndex
DROP INDEX "prices_model_id_effective_from_key";

-- AlterTable
ALTER TABLE "prices" ADD COLUMN     "tenant_id" UUID;

-- CreateIndex
CREATE INDEX "prices_tenant_id_model_id_idx" ON "prices"("tenant_id", "model_id");

-- AddForeignKey
ALTER TABLE "prices" ADD CONSTRAINT "prices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- One version per model, tenant and effective_from, the model-wide ones (tenant_id null) included:
-- NULLS NOT DISTINCT, which Prisma's schema cannot express (hand-written; the schema diff leaves it be).
CREATE UNIQUE INDEX "prices_model_id_tenant_id_effective_from_key"
  ON "prices" ("model_id", "tenant_id", "effective_from") NULLS NOT DISTINCT;

-- Price versions are append-only, as the ledger is: a charge names the version it used, so a
-- version must never change or go. UPDATE, DELETE and TRUNCATE are refused per statement
-- (SQLSTATE 23001, restrict_violation); a new price is a new version.
CREATE FUNCTION "prices_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'prices is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'Add a new price version with a later effective_from.';
END
$$;

CREATE TRIGGER "prices_append_only"
  BEFORE UPDATE OR DELETE OR TRUNCATE ON "prices"
  FOR EACH STATEMENT EXECUTE FUNCTION "prices_refuse_change"();
