import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BootstrapEvent,
  checkDatabase,
  PrerequisiteError,
  readIndexRecord,
  runBootstrap,
} from "../../lib/bootstrap";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { MemoryQueue } from "../../lib/queue";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { ENGINES } from "../support/engines";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

// Each prerequisite failure the shared server lets us produce, reported together with its fix,
// before anything is created: a role without REPLICATION, a table it may not read, tables whose
// replica identity is too small; wal_level (which cannot change on a shared server) through an
// injected check, to show that nothing is created when the database is not ready.

const suffix = randomBytes(4).toString("hex");
const role = `slotsync_prereq_${suffix}`;
const password = randomBytes(12).toString("hex");
const slot = `slotsync_prereq_${suffix}`;
const index = `slotsync-prereq-${suffix}`;
let db: TestDatabase;
let roleClient: pg.Client;
let schema: ResolvedSchema;
let store: UpstashCheckpointStore;
let sink: SearchSink;

async function resolve(): Promise<ResolvedSchema> {
  const [spec] = (await readSchemaFixture("bookstore")) as Record<string, unknown>[];
  return resolveSchema(parseSchema([{ ...spec, index }], { env: { DATABASE: db.name } }), db.client);
}

function deps(client: pg.Client) {
  return { db: client, schema, slot, sink, store, publisher: new MemoryQueue() };
}

async function slotExists(): Promise<boolean> {
  const { rows } = await db.client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]);
  return rows.length > 0;
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  await db.client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await db.client.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${role}`);
  await db.client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await db.client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  await db.client.query(`REVOKE SELECT ON review FROM ${role}`);
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  roleClient = new pg.Client({ connectionString: url.toString() });
  await roleClient.connect();
  schema = await resolve();
  const { url: upstash, token } = getServices().upstash;
  store = new UpstashCheckpointStore({ url: upstash, token });
  sink = createSink((ENGINES[0] as (typeof ENGINES)[number]).config());
});

afterAll(async () => {
  await roleClient?.end().catch(() => undefined);
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await store?.reset(slot).catch(() => undefined);
  await sink?.close();
  await db?.drop();
  const admin = new pg.Client({ connectionString: getServices().postgres.url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
});

describe("bootstrap prerequisites", () => {
  it("reports every problem at once, each with its fix, and creates nothing", async () => {
    const error = await runBootstrap(deps(roleClient)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    const problems = (error as PrerequisiteError).problems;
    const byCode = (code: string) => problems.filter((p) => p.code === code);

    expect(byCode("replication_privilege")).toEqual([
      expect.objectContaining({ fix: `ALTER ROLE "${role}" WITH REPLICATION;` }),
    ]);
    expect(byCode("select_privilege")).toEqual([
      expect.objectContaining({ fix: `GRANT SELECT ON "public"."review" TO "${role}";` }),
    ]);
    const identity = byCode("replica_identity").map((p) => p.fix);
    expect(identity).toContain('ALTER TABLE "public"."review" REPLICA IDENTITY FULL;');
    expect(identity.length).toBe(schema.replicaIdentityNeeds.length);
    // One message lists them all, each line with its fix.
    for (const p of problems) expect((error as Error).message).toContain(`${p.path}: ${p.message}`);
    expect((error as Error).message).toContain("fix: GRANT SELECT ON");

    expect(await slotExists()).toBe(false);
    expect(await sink.indexExists(index)).toBe(false);
    expect((await readIndexRecord(store, slot, index)).building).toBeNull();
  });

  it("--fix-replica-identity fails for a role that does not own the tables, and says so", async () => {
    const error = await runBootstrap(deps(roleClient), { fixReplicaIdentity: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    const identity = (error as PrerequisiteError).problems.filter((p) => p.code === "replica_identity");
    expect(identity.length).toBe(schema.replicaIdentityNeeds.length);
    for (const p of identity) expect(p.message).toMatch(/must be owner/);
  });

  it("--fix-replica-identity run by the owner fixes them; after the grants the role is ready", async () => {
    const events: BootstrapEvent[] = [];
    await expect(
      checkDatabase(
        { db: db.client, schema, slot },
        { fixReplicaIdentity: true, onEvent: (e) => events.push(e) },
      ),
    ).resolves.toBeUndefined();
    expect(events).toEqual([
      { step: "replica-identity-fixed", statements: schema.replicaIdentityNeeds.map((n) => n.sql) },
    ]);
    const { rows } = await db.client.query<{ relreplident: string }>(
      "SELECT relreplident FROM pg_class WHERE oid = 'public.review'::regclass",
    );
    expect(rows[0]?.relreplident).toBe("f");

    await db.client.query(`ALTER ROLE ${role} WITH REPLICATION`);
    await db.client.query(`GRANT SELECT ON review TO ${role}`);
    schema = await resolve();
    await expect(checkDatabase({ db: roleClient, schema, slot }, {})).resolves.toBeUndefined();
  });

  it("a setting that needs a restart (wal_level) is reported with its fix before the slot is created", async () => {
    const prerequisites = async () => [
      {
        path: "database.wal_level",
        code: "wal_level" as const,
        message: 'wal_level is "replica"; logical decoding needs "logical"',
        fix: "ALTER SYSTEM SET wal_level = logical;",
      },
    ];
    const error = await runBootstrap({ ...deps(db.client), prerequisites }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as PrerequisiteError).toLine()).toContain(
      'database.wal_level: wal_level is "replica"; logical decoding needs "logical" — fix: ALTER SYSTEM SET wal_level = logical;',
    );
    expect(await slotExists()).toBe(false);
  });
});
