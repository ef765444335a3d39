import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const ROOT = path.join(__dirname, '..');
const MIGRATIONS = path.join(ROOT, 'prisma', 'migrations');
const run = promisify(execFile);

/** Runs `npm run db:migrate` against `url` with another migrations folder; never throws. */
async function migrate(url: string, dir: string) {
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts', 'migrate.mjs'), '--dir', dir], {
      env: { ...process.env, DATABASE_URL: url },
    });
    return { ok: true, output: stdout };
  } catch (err) {
    const e = err as { stdout: string; stderr: string };
    return { ok: false, output: e.stdout + e.stderr };
  }
}

describe('db:migrate applies each migration exactly as written, in one transaction', () => {
  const databases: string[] = [];
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'tollgate-migrations-'));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
    const admin = new Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  function urlOf(database: string) {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** A throwaway database (created by the runner itself), dropped after the suite. */
  function scratchDatabase() {
    const name = `${new URL(process.env.DATABASE_URL!).pathname.slice(1)}_mig${databases.length}`;
    databases.push(name);
    return urlOf(name);
  }

  /** A migrations folder holding `migrations` (name -> SQL). */
  async function migrationsFolder(label: string, migrations: Record<string, string>) {
    const dir = path.join(folder, label);
    for (const [name, sql] of Object.entries(migrations)) {
      await mkdir(path.join(dir, name), { recursive: true });
      await writeFile(path.join(dir, name, 'migration.sql'), sql);
    }
    await cp(path.join(MIGRATIONS, 'migration_lock.toml'), path.join(dir, 'migration_lock.toml'));
    return dir;
  }

  async function query<T = any>(url: string, sql: string): Promise<T[]> {
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      return (await db.query(sql)).rows;
    } finally {
      await db.end();
    }
  }

  const recorded = (url: string) =>
    query(url, 'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
  const tableExists = async (url: string, table: string) =>
    (await query(url, `SELECT to_regclass('${table}') IS NOT NULL AS "exists"`))[0].exists;

  it('applies a PL/pgSQL $$ body that contains semicolons', async () => {
    const dir = await migrationsFolder('dollar', {
      '20990101000000_function': `CREATE FUNCTION "twice"(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  doubled int;
BEGIN
  doubled := n * 2;
  RETURN doubled;
END
$$;
`,
    });
    const url = scratchDatabase();
    const result = await migrate(url, dir);
    expect(result.output).toContain('applied 20990101000000_function');
    expect(result.ok).toBe(true);
    expect(await query(url, 'SELECT "twice"(21) AS v')).toEqual([{ v: 42 }]);
  });

  it('leaves none of a failing migration applied and does not record it; the corrected one applies next time', async () => {
    const good = 'CREATE TABLE "first" ("id" INT PRIMARY KEY);\n';
    const failing = `CREATE TABLE "second" ("id" INT PRIMARY KEY);
INSERT INTO "first" VALUES (1);
INSERT INTO "first" VALUES (1);
`;
    const dir = await migrationsFolder('failing', { '20990101000000_good': good, '20990101000001_failing': failing });
    const url = scratchDatabase();

    const result = await migrate(url, dir);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('20990101000001_failing');
    expect(result.output).toContain('Unique constraint failed: first_pkey');
    expect(await tableExists(url, 'second')).toBe(false);
    expect(await query(url, 'SELECT count(*)::int AS n FROM "first"')).toEqual([{ n: 0 }]);
    expect((await recorded(url)).map((r) => r.migration_name)).toEqual(['20990101000000_good']);

    await writeFile(path.join(dir, '20990101000001_failing', 'migration.sql'), failing.replace(/INSERT[^\n]*\n$/, ''));
    const retry = await migrate(url, dir);
    expect(retry.output).toContain('applied 20990101000001_failing');
    expect(await query(url, 'SELECT count(*)::int AS n FROM "first"')).toEqual([{ n: 1 }]);
  });

  it("applies the project's migrations with prisma's checksums, and a second run is a no-op", async () => {
    const url = scratchDatabase();
    const first = await migrate(url, MIGRATIONS);
    expect(first.ok).toBe(true);
    const names = (await readdir(MIGRATIONS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const rows = await recorded(url);
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      // `prisma migrate deploy` stores the SHA-256 of the file as written.
      const sql = await readFile(path.join(MIGRATIONS, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }

    const second = await migrate(url, MIGRATIONS);
    expect(second.output).toContain('applied none (up to date)');
    expect(await recorded(url)).toEqual(rows);
  });

  it('re-creates the usage rollup trigger function with the same body it had as an escaped string', async () => {
    const escaped = '20261124230246_reports_invoices_audit';
    const upToEscaped = path.join(folder, 'up-to-escaped');
    await mkdir(upToEscaped);
    for (const name of await readdir(MIGRATIONS)) {
      if (name <= escaped || name === 'migration_lock.toml') await cp(path.join(MIGRATIONS, name), path.join(upToEscaped, name), { recursive: true });
    }
    const body = async (url: string) =>
      (await query(url, `SELECT prosrc FROM pg_proc WHERE proname = 'usage_rollups_add_charges'`)).map((r) => r.prosrc);
    const url = scratchDatabase();
    expect((await migrate(url, upToEscaped)).ok).toBe(true);
    const before = await body(url);
    expect(before).toHaveLength(1);
    expect(before[0]).toContain('RETURN NULL;');

    const all = await migrate(url, MIGRATIONS);
    expect(all.output).toContain('_usage_rollups_plain_function_body');
    expect(await body(url)).toEqual(before);
  });
});
