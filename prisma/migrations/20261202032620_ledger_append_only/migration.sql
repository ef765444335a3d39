-- DropForeignKey
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_usage_event_id_fkey";

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_usage_event_id_fkey" FOREIGN KEY ("usage_event_id") REFERENCES "usage_events"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The ledger is append-only, enforced here rather than trusted to the code: UPDATE, DELETE and
-- TRUNCATE of ledger_entries are refused (a mistake is corrected with a new entry). Per statement, so
-- even one that would touch no row is refused. SQLSTATE 23001 (restrict_violation): an integrity rule.
-- A deliberate repair has to say so: ALTER TABLE "ledger_entries" DISABLE TRIGGER "ledger_entries_append_only".
-- (Hand-written: Prisma's schema diff does not manage functions and triggers, and leaves them be.)
CREATE FUNCTION "ledger_entries_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'Correct a ledger entry by adding a new one (a credit or a charge).';
END
$$;

CREATE TRIGGER "ledger_entries_append_only"
  BEFORE UPDATE OR DELETE OR TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_entries_refuse_change"();

-- A charged usage event is the evidence for its ledger entry: it cannot be deleted (the foreign key
-- above restricts it too; this says why). Uncharged events can still be deleted, and events updated.
CREATE FUNCTION "usage_events_refuse_delete_charged"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "ledger_entries" WHERE "usage_event_id" = OLD."id") THEN
    RAISE EXCEPTION 'usage event % has a ledger charge and cannot be deleted', OLD."id"
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN OLD;
END
$$;

CREATE TRIGGER "usage_events_keep_charged"
  BEFORE DELETE ON "usage_events"
  FOR EACH ROW EXECUTE FUNCTION "usage_events_refuse_delete_charged"();
