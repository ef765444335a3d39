import { Client } from 'pg';

/** A connected pg client on the run's database (or `connectionString`); the caller ends it. */
export async function openDb(connectionString = process.env.DATABASE_URL): Promise<Client> {
  if (!connectionString) throw new Error('DATABASE_URL is not set: run under a Jest project with the e2e global setup');
  const db = new Client({ connectionString });
  await db.connect();
  return db;
}
