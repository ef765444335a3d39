-- CreateEnum
CREATE TYPE "budget_period" AS ENUM ('day', 'week', 'month', 'total');

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "credit_limit" DECIMAL(38,18) NOT NULL DEFAULT 0,
ADD COLUMN     "low_balance_threshold" DECIMAL(38,18);

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "allowed_models" JSONB,
ADD COLUMN     "budget_limit" DECIMAL(38,18),
ADD COLUMN     "budget_period" "budget_period",
ADD COLUMN     "expires_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN     "budget_key_id" UUID,
ADD COLUMN     "budget_period_start" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "key_spend" (
    "api_key_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "spent" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "reserved" DECIMAL(38,18) NOT NULL DEFAULT 0,
    "reached_80_at" TIMESTAMPTZ(3),
    "reached_100_at" TIMESTAMPTZ(3),

    CONSTRAINT "key_spend_pkey" PRIMARY KEY ("api_key_id","period_start")
);

-- AddForeignKey
ALTER TABLE "key_spend" ADD CONSTRAINT "key_spend_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "tenants" ADD CONSTRAINT "tenants_credit_limit_non_negative" CHECK ("credit_limit" >= 0);

-- Undoes a whole admission statement whose budget holds went in while its balance hold did not:
-- raising aborts the statement, so neither stays. The caller reads why from the SQLSTATE it passes
-- (TGB29: a key budget, TGQ29: the balance).
CREATE FUNCTION "admission_refused"(sqlstate text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'admission refused (%)', sqlstate USING ERRCODE = sqlstate;
END
$$;
