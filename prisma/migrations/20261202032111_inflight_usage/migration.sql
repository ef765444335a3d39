-- CreateEnum
CREATE TYPE "usage_state" AS ENUM ('pending', 'final', 'interrupted');

-- AlterTable
ALTER TABLE "usage_events" ADD COLUMN     "checkpointed_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "max_input_tokens" INTEGER,
ADD COLUMN     "max_output_tokens" INTEGER,
ADD COLUMN     "overrun_input_tokens" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "overrun_output_tokens" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "price_id" UUID,
ADD COLUMN     "state" "usage_state" NOT NULL DEFAULT 'final';

-- CreateIndex
CREATE INDEX "usage_events_state_lease_expires_at_idx" ON "usage_events"("state", "lease_expires_at");
