import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { getServices } from "./services";

export interface TestDatabase {
  /** The database name. */
  name: string;
  /** Connection URL of the new database (as the superuser). */
  url: string;
  /** A connected client of the new database. */
  client: pg.Client;
  /** Closes the client and drops the database (forcing out other sessions). */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Creates a uniquely named database on the test PostgreSQL (via the superuser URL from the
 * services state) and connects to it. Call `drop()` when done, typically in `afterAll`.
 */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const superUrl = getServices().postgres.url;
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 40);
  const name = `${clean}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(superUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let dropped = false;
  return {
    name,
    url,
    client,
    async drop() {
      if (dropped) return;
      dropped = true;
      await client.end().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: superUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/** Directory of a schema fixture: `test/fixtures/schemas/<name>/` (holding schema.sql and schema.json). */
export function schemaFixtureDir(name: string): string {
  return join(import.meta.dirname, "..", "fixtures", "schemas", name);
}

/** Runs a fixture's `schema.sql` (DDL and data) in the given database. */
export async function applySchemaFixture(client: pg.Client, name: string): Promise<void> {
  const sql = await readFile(join(schemaFixtureDir(name), "schema.sql"), "utf8");
  await client.query(sql);
}

/** Reads a fixture's schema file (`schema.json` unless named) as parsed JSON. */
export async function readSchemaFixture(name: string, file = "schema.json"): Promise<unknown> {
  return JSON.parse(await readFile(join(schemaFixtureDir(name), file), "utf8"));
}

/**
 * A schema fixture (`schema.json`) parsed and resolved against `db`, with `${DATABASE}` set to its
 * name, so the schema's database is the one the client is connected to: what a test wires its
 * consumer, poller or sink with.
 */
export async function resolveSchemaFixture(db: TestDatabase, name: string): Promise<ResolvedSchema> {
  const json = await readSchemaFixture(name);
  return resolveSchema(parseSchema(json, { env: { DATABASE: db.name } }), db.client);
}

/**
 * A fresh database holding a schema fixture's tables and data, with the session time zone set to
 * UTC so timestamptz values render the same on every machine.
 */
export async function createFixtureDatabase(fixture: string): Promise<TestDatabase> {
  const db = await createTestDatabase(fixture);
  try {
    await applySchemaFixture(db.client, fixture);
    await db.client.query("SET TIME ZONE 'UTC'");
  } catch (err) {
    await db.drop();
    throw err;
  }
  return db;
}
