// npm run db:migrate — what `prisma migrate deploy` does, offline: creates the database if it is
// missing, applies prisma/migrations/*/migration.sql in order and records them in _prisma_migrations.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

export async function migrate(url = process.env.DATABASE_URL || DEFAULT_URL, { quiet = false } = {}) {
  await ensureDatabase(url);
  const baseDir = path.join(root, 'prisma', 'migrations');
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
  } catch {}
  const schema = await readFile(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
  const { engine, close } = await loadSchemaEngine(url, [['schema.prisma', schema]]);
  const { appliedMigrationNames } = await engine.applyMigrations({
    migrationsList: {
      baseDir,
      lockfile: { path: 'migration_lock.toml', content: lockfile },
      shadowDbInitScript: '',
      migrationDirectories,
    },
    filters: { externalTables: [], externalEnums: [] },
  }).finally(close);
  if (!quiet) {
    const applied = appliedMigrationNames.length ? appliedMigrationNames.join(', ') : 'none (up to date)';
    console.log(`db:migrate: ${new URL(url).pathname.slice(1)}: applied ${applied}`);
  }
  return appliedMigrationNames;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  migrate().catch((err) => {
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
