#!/usr/bin/env node
// Plants each known money-path bug, one at a time, runs the tests that claim to catch it, and
// prints whether it was killed. The source file is restored after each run (and on exit or Ctrl-C).
// Usage: npm run test:mutate [-- name ...]   (exits 1 if any mutation survived or a patch no longer applies)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const currentPrice = (row) =>
  `(SELECT ((${row}.input_tokens - ${row}.cached_tokens) * p.input_price + ${row}.cached_tokens * p.cached_input_price + ${row}.output_tokens * p.output_price) / 1000000
      FROM prices p WHERE p.model_id = ${row}.model AND p.effective_from <= now() ORDER BY p.effective_from DESC LIMIT 1)`;

const MEDIUM_CHARGING = ['medium', 'test/medium/charging.medium-spec.ts'];
const METERING = ['e2e', 'test/metering.e2e-spec.ts'];
const INVOICES = ['e2e', 'test/invoices.e2e-spec.ts'];
const RECEIPTS = ['e2e', 'test/receipts.e2e-spec.ts'];
const MEDIUM_BUDGETS = ['medium', 'test/medium/budgets.medium-spec.ts'];
const SPEND_CONTROLS = ['e2e', 'test/spend-controls.e2e-spec.ts'];
const SPEND_WEBHOOKS = ['e2e', 'test/spend-webhooks.e2e-spec.ts'];

/** name, file, [search, replace] pairs, and the test files (by Jest project) that must fail. */
const MUTATIONS = [
  {
    name: 'key budget check ignores what running requests hold',
    file: 'src/billing/reservations.repository.ts',
    patches: [['WHERE s.spent + s.reserved + EXCLUDED.reserved\n', 'WHERE s.spent + EXCLUDED.reserved\n']],
    tests: [MEDIUM_BUDGETS, SPEND_CONTROLS],
  },
  {
    name: 'a request that exactly fits the budget left is refused (< for <=)',
    file: 'src/billing/reservations.repository.ts',
    patches: [['<= COALESCE((SELECT budget_limit', '< COALESCE((SELECT budget_limit']],
    tests: [MEDIUM_BUDGETS],
  },
  {
    name: 'budget hold kept when the balance refuses the request',
    file: 'src/billing/reservations.repository.ts',
    patches: [['CASE WHEN NOT EXISTS (SELECT 1 FROM held) AND EXISTS (SELECT 1 FROM key_held)', 'CASE WHEN false']],
    tests: [MEDIUM_BUDGETS],
  },
  {
    name: 'credit limit counted twice',
    file: 'src/billing/reservations.repository.ts',
    patches: [['balance - reserved + credit_limit >=', 'balance - reserved + 2 * credit_limit >=']],
    tests: [SPEND_CONTROLS],
  },
  {
    name: 'cached input billed at the input price',
    file: 'src/billing/money.ts',
    patches: [['perToken(usage.cachedTokens, price.cachedInput)', 'perToken(usage.cachedTokens, price.input)']],
    tests: [MEDIUM_CHARGING, METERING, INVOICES],
  },
  {
    name: 'reasoning billed twice',
    file: 'src/billing/money.ts',
    patches: [['perToken(usage.outputTokens - usage.reasoningTokens, price.output)', 'perToken(usage.outputTokens, price.output)']],
    tests: [MEDIUM_CHARGING, METERING, INVOICES],
  },
  {
    name: 'total truncated to 6 decimals',
    file: 'src/billing/money.ts',
    patches: [['total: formatAmount(total),', 'total: formatAmount(total.toDecimalPlaces(6, Decimal.ROUND_DOWN)),']],
    tests: [MEDIUM_CHARGING, METERING, INVOICES],
  },
  {
    name: 'balance_after = the balance before the charge',
    file: 'src/billing/charge-plan.ts',
    patches: [
      [
        'charges[i].balanceAfter = formatAmount(after);\n    after = after.add(charges[i].charge.total);',
        'after = after.add(charges[i].charge.total);\n    charges[i].balanceAfter = formatAmount(after);',
      ],
    ],
    tests: [MEDIUM_CHARGING, METERING],
  },
  {
    name: 'relay made a no-op',
    file: 'src/metering/relay.service.ts',
    patches: [['Promise<number> {\n', 'Promise<number> {\n    if (olderThanMs >= 0) return 0;\n']],
    tests: [['e2e', 'test/relay.e2e-spec.ts']],
  },
  {
    name: 'report cost recomputed as usage x current price',
    file: 'src/reports/usage-sql.ts',
    patches: [
      ['Prisma.sql`sum(r.cost) AS cost`', `Prisma.sql\`sum(${currentPrice('r')}) AS cost\``],
      ['Prisma.sql`sum(-l.amount) AS cost`', `Prisma.sql\`sum(-l.amount * 0 + ${currentPrice('e')}) AS cost\``],
    ],
    tests: [['medium', 'test/medium/reports-invoices.medium-spec.ts'], ['e2e', 'test/reports.e2e-spec.ts']],
  },
  {
    name: 'receipt from the raw usage, not the billable usage held to the bounds',
    file: 'src/responses/responses.service.ts',
    patches: [['costReceipt(bounded.billable,', 'costReceipt(usage,']],
    tests: [RECEIPTS],
  },
  {
    name: "tenant's own price ignored at admission",
    file: 'src/catalog/catalog.service.ts',
    patches: [['price: inForce(own) ?? inForce(entry.versions)', 'price: inForce(entry.versions)']],
    tests: [RECEIPTS],
  },
  {
    name: 'price version fixed at admission ignored by the worker (charged at the version in force at requested_at)',
    file: 'src/billing/charge-plan.ts',
    patches: [['  if (event.priceId) {\n', "  if (event.priceId === 'ignored') {\n"]],
    tests: [RECEIPTS, MEDIUM_CHARGING],
  },
  {
    name: 'charged-once re-check removed',
    file: 'src/metering/usage-events.repository.ts',
    patches: [['AND charged_at IS NULL AND state', 'AND state']],
    tests: [MEDIUM_CHARGING, METERING],
  },
  {
    name: 'balance.low fired on every charge below the threshold, not once per crossing',
    file: 'src/billing/ledger.service.ts',
    patches: [['compareAmounts(before, threshold) >= 0 && compareAmounts(after', 'compareAmounts(after']],
    tests: [SPEND_WEBHOOKS],
  },
];

let restore = null;
const restoreNow = () => {
  if (restore) restore();
  restore = null;
};
process.on('exit', restoreNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    restoreNow();
    process.exit(130);
  });
}

/** Runs every given test file; returns the ones that failed. */
function failingTests(tests) {
  const failed = [];
  for (const [project, file] of tests) {
    const res = spawnSync('npx', ['jest', '--selectProjects', project, '--runInBand', '--bail', '--runTestsByPath', file], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: process.env.MUTATE_VERBOSE ? 'inherit' : 'pipe',
      encoding: 'utf8',
    });
    if (res.status !== 0) failed.push(file);
  }
  return failed;
}

const only = process.argv.slice(2);
const selected = MUTATIONS.filter((m) => !only.length || only.some((o) => m.name.includes(o)));
const files = [...new Map(selected.flatMap((m) => m.tests).map((t) => [t.join(' '), t])).values()];

console.log(`baseline: ${files.map(([, f]) => f).join(', ')}`);
const baseline = failingTests(files);
if (baseline.length) {
  console.error(`baseline fails (${baseline.join(', ')}) with no mutation: fix that first`);
  process.exit(2);
}

let survived = 0;
for (const m of selected) {
  const file = path.join(root, m.file);
  const original = readFileSync(file, 'utf8');
  let mutated = original;
  const missing = m.patches.filter(([from]) => !mutated.includes(from));
  if (missing.length) {
    console.log(`PATCH NOT FOUND  ${m.name} (${m.file}: ${JSON.stringify(missing[0][0])})`);
    survived++;
    continue;
  }
  for (const [from, to] of m.patches) mutated = mutated.replace(from, to);
  restore = () => writeFileSync(file, original);
  writeFileSync(file, mutated);
  const started = Date.now();
  const failed = failingTests(m.tests);
  restoreNow();
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  // Every listed file must catch it: a file that claims to and does not is reported as missing it.
  const missedBy = m.tests.map(([, f]) => f).filter((f) => !failed.includes(f));
  if (!failed.length) survived++;
  const detail = failed.length ? `killed by ${failed.join(', ')}${missedBy.length ? `; MISSED by ${missedBy.join(', ')}` : ''}` : 'no test failed';
  console.log(`${failed.length ? 'killed  ' : 'SURVIVED'}  ${m.name}  (${detail}; ${secs} s)`);
}
process.exit(survived ? 1 : 0);
