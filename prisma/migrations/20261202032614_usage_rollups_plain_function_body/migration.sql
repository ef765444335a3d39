-- The rollup trigger function of 20261124230246_reports_invoices_audit, re-created with an ordinary
-- $$ body: that migration had to spell each semicolon as \073 inside an E'' string, because the
-- migrator used to split scripts at semicolons. The body is the same text (same behaviour); the
-- trigger keeps pointing at the function, so only the function is replaced.
-- (Hand-written: Prisma's schema diff does not manage functions and triggers, and leaves them be.)
CREATE OR REPLACE FUNCTION "usage_rollups_add_charges"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- EXECUTE: planned for each batch with its real size (a cached plan would keep the first batch's).
  EXECUTE $q$
    INSERT INTO "usage_rollups" AS r ("tenant_id", "hour", "model", "api_key_id", "price_id", "requests", "input_tokens",
                                      "cached_tokens", "output_tokens", "reasoning_tokens", "cost", "input_cost",
                                      "cached_input_cost", "output_cost", "reasoning_cost")
    SELECT e."tenant_id", date_trunc('hour', e."created_at", 'UTC'), e."model", e."api_key_id",
           coalesce(n."price_id", '00000000-0000-0000-0000-000000000000'::uuid),
           count(*), sum(e."input_tokens"), sum(e."cached_tokens"), sum(e."output_tokens"), sum(e."reasoning_tokens"),
           sum(-n."amount"), coalesce(sum(n."input_cost"), 0), coalesce(sum(n."cached_input_cost"), 0),
           coalesce(sum(n."output_cost"), 0), coalesce(sum(n."reasoning_cost"), 0)
      FROM new_entries n JOIN "usage_events" e ON e."id" = n."usage_event_id"
     WHERE n."kind" = 'charge'
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
  $q$;
  RETURN NULL;
END
$$;
