// npm run db:migrate — what `prisma migrate deploy` does, offline: creates the database if it is
// missing, applies prisma/migrations/*/migration.sql in order and records them in _prisma_migrations.
// Each migration runs exactly as written, as one transaction: one that fails leaves nothing applied and
// no record. `--dir <folder>` applies another migrations folder.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadSchemaEngine } from './schema-engine.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/tollgate';

export async function ensureDatabase(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

export async function migrate(
  url = process.env.DATABASE_URL || DEFAULT_URL,
  { quiet = false, migrationsDir = path.join(root, 'prisma', 'migrations') } = {},
) {
  await ensureDatabase(url);
  const baseDir = path.resolve(migrationsDir);
  const entries = (await readdir(baseDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    entries.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8') },
      },
    })),
  );
  let lockfile = null;
  try {
    lockfile = await readFile(path.join(baseDir, 'migration_lock.toml'), 'utf8');
  } catch {
    // no lock file: the engine writes none either
  }
  const schema = await readFile(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
  const failedBefore = await unfinishedMigrations(url);
  const { engine, close } = await loadSchemaEngine(url, [['schema.prisma', schema]]);
  let appliedMigrationNames;
  try {
    ({ appliedMigrationNames } = await engine.applyMigrations({
      migrationsList: {
        baseDir,
        lockfile: { path: 'migration_lock.toml', content: lockfile },
        shadowDbInitScript: '',
        migrationDirectories,
      },
      filters: { externalTables: [], externalEnums: [] },
    }));
  } catch (err) {
    await close();
    await forgetFailedAttempts(url, failedBefore);
    throw err;
  }
  await close();
  if (!quiet) {
    const applied = appliedMigrationNames.length ? appliedMigrationNames.join(', ') : 'none (up to date)';
    console.log(`db:migrate: ${new URL(url).pathname.slice(1)}: applied ${applied}`);
  }
  return appliedMigrationNames;
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const UNFINISHED = 'SELECT id FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL';

async function unfinishedMigrations(url) {
  return withClient(url, async (client) => {
    const { rows } = await client.query(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`);
    if (!rows[0].exists) return [];
    return (await client.query(UNFINISHED)).rows.map((r) => r.id);
  });
}

// The engine records a migration as started before running it, and leaves that row behind when it
// fails. Each script runs as one transaction, so a failed one left nothing applied: drop its row, so
// the next run applies the corrected migration instead of refusing to go on. Rows that were already
// unfinished before this run (possibly half-applied by an older runner) are kept for a human to resolve.
async function forgetFailedAttempts(url, keep) {
  await withClient(url, (client) =>
    client.query(`DELETE FROM "_prisma_migrations" WHERE id IN (${UNFINISHED}) AND NOT (id = ANY($1::text[]))`, [keep]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  // Exit once done: the wasm engine leaves a 10 s timer behind (its lock timeout) that free() does not clear.
  migrate(undefined, values.dir ? { migrationsDir: values.dir } : {}).then(() => process.exit(0), (err) => {
    const url = new URL(process.env.DATABASE_URL || DEFAULT_URL);
    if (err?.code === 'ECONNREFUSED' || /ECONNREFUSED|Can't reach database|connection refused/i.test(String(err?.message))) {
      console.error(
        `db:migrate: cannot reach PostgreSQL at ${url.host}. Start it (e.g. \`pg_ctlcluster 15 main start\`) ` +
          'or run `docker compose up -d postgres redis`, or set DATABASE_URL.',
      );
    } else {
      console.error('db:migrate failed:', err?.message ?? err);
    }
    process.exit(1);
  });
}
