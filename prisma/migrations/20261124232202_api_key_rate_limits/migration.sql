-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "rpm_limit" INTEGER,
ADD COLUMN     "tpm_limit" INTEGER;
