-- CreateTable
CREATE TABLE "auth_revisions" (
    "id" SMALLINT NOT NULL DEFAULT 1,
    "revision" BIGINT NOT NULL DEFAULT 0,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "auth_revisions_pkey" PRIMARY KEY ("id")
);

-- The one row every revocation bumps.
INSERT INTO "auth_revisions" ("id") VALUES (1);
