import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runCli, scratchDir } from "../support/cli";
import { applySchemaFixture, createTestDatabase, schemaFixtureDir, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

const schema = join(schemaFixtureDir("bookstore"), "schema.json");
const role = `cli_norepl_${randomBytes(4).toString("hex")}`;
const password = `pw-${randomBytes(6).toString("hex")}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;

function urlAs(user: string, pass: string): string {
  const url = new URL(db.url);
  url.username = user;
  url.password = pass;
  return url.toString();
}

/** Slot names are per cluster: one of its own keeps this suite apart from others on the shared server. */
const slot = () =>
  `validate_${db.name}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63);
const env = () => ({ PG_URL: db.url, DATABASE: db.name, SLOTSYNC_SLOT: slot() });

async function identity(table: string): Promise<string> {
  const { rows } = await db.client.query<{ relreplident: string }>(
    "SELECT relreplident::text FROM pg_class WHERE oid = $1::regclass",
    [table],
  );
  return rows[0]?.relreplident ?? "?";
}

beforeAll(async () => {
  db = await createTestDatabase("cli_validate");
  await applySchemaFixture(db.client, "bookstore");
  scratch = await scratchDir("cli-validate");
  // A role that may log in and read most tables, but has no REPLICATION and no SELECT on review.
  await db.client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await db.client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  await db.client.query(`REVOKE SELECT ON review FROM ${role}`);
});

afterAll(async () => {
  await db?.drop();
  await scratch?.remove();
  const admin = new pg.Client({ connectionString: getServices().postgres.url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
});

describe("slotsync validate with PG_URL", () => {
  it("reports tables that need REPLICA IDENTITY FULL at their schema paths, with the SQL, exit 2", async () => {
    const r = await runCli(["validate", "--schema", schema], { env: env() });
    expect(r.code).toBe(2);
    const out = lines(r.stdout);
    expect(out).toHaveLength(4);
    expect(out).toContainEqual(
      expect.stringMatching(
        /^\[0\]\.nodes\.children\[6\]: public\.review needs REPLICA IDENTITY FULL \(it is default\): review\.book_id joins public\.review to public\.book; .* — run: ALTER TABLE "public"\."review" REPLICA IDENTITY FULL; \(or pass --fix-replica-identity\)$/,
      ),
    );
    for (const table of ["book_language", "book_author", "rating"]) {
      expect(out.some((l) => l.includes(`ALTER TABLE "public"."${table}" REPLICA IDENTITY FULL;`))).toBe(
        true,
      );
    }
    expect(r.stderr).toContain("4 problems");
  });

  it("--fix-replica-identity runs the statements; then the schema and database are valid, exit 0", async () => {
    expect(await identity("review")).toBe("d");
    const fixed = await runCli(["validate", "--schema", schema, "--fix-replica-identity"], { env: env() });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain(
      '[0].nodes.children[6]: fixed: ALTER TABLE "public"."review" REPLICA IDENTITY FULL;',
    );
    expect(await identity("review")).toBe("f");

    const again = await runCli(["validate", "--schema", schema], { env: env() });
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toEqual([
      `${schema}: valid (1 index)`,
      expect.stringMatching(
        new RegExp(
          `^database ${db.name}: ready \\(wal_level logical, role "postgres" may replicate, wal2json available, slot "${slot()}" not created yet, \\d+ of \\d+ replication slots free\\)$`,
        ),
      ),
    ]);
    // The wal2json test slot is temporary and dropped: nothing is left behind.
    const { rows } = await db.client.query(
      "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'slotsync_check_%'",
    );
    expect(rows).toEqual([]);
  });

  it("a role without REPLICATION and without SELECT on a table: each problem with its fix, exit 2", async () => {
    const r = await runCli(["validate", "--schema", schema], {
      env: { ...env(), PG_URL: urlAs(role, password) },
    });
    expect(r.code).toBe(2);
    const out = lines(r.stdout);
    expect(out).toContain(
      `database.role: role "${role}" may not use replication slots: it has no REPLICATION attribute — run: ALTER ROLE "${role}" WITH REPLICATION;`,
    );
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^\\[0\\]\\.nodes\\.children\\[6\\]\\.table: role "${role}" may not read public\\.review; run GRANT SELECT ON "public"\\."review" TO "${role}"`,
        ),
      ),
    );
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it("a schema naming a missing column and the wrong database: problems at their paths, exit 2", async () => {
    const bad = [
      {
        database: "elsewhere",
        index: "books",
        nodes: { table: "book", columns: ["id", "titel"] },
      },
    ];
    const file = join(scratch.dir, "bad.json");
    await writeFile(file, JSON.stringify(bad));
    const r = await runCli(["validate", "--schema", file], { env: env() });
    expect(r.code).toBe(2);
    const out = lines(r.stdout);
    expect(out).toContainEqual(
      expect.stringMatching(
        /^\[0\]\.database: the schema reads database "elsewhere" but the connection is to /,
      ),
    );
    expect(out).toContainEqual(
      expect.stringMatching(
        /^\[0\]\.nodes\.columns\[1\]: column "titel" does not exist in public\.book.*"title"/,
      ),
    );
  });

  it("an existing slot made with another plugin is a database problem with the fix", async () => {
    const slot = `cli_validate_${randomBytes(4).toString("hex")}`;
    await db.client.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [slot]);
    try {
      const r = await runCli(["validate", "--schema", schema], { env: { ...env(), SLOTSYNC_SLOT: slot } });
      expect(r.code).toBe(2);
      expect(lines(r.stdout)).toEqual([
        `database.slot: replication slot "${slot}" exists but uses the test_decoding plugin, not wal2json; drop it (or set SLOTSYNC_SLOT to another name) and bootstrap — run: SELECT pg_drop_replication_slot('${slot}');`,
      ]);
    } finally {
      await db.client.query("SELECT pg_drop_replication_slot($1)", [slot]);
    }
  });
});

describe("slotsync validate on PGSync's node example (a self-referencing table)", () => {
  it("accepts the one foreign key and says which way it reads it", async () => {
    const nodeDb = await createTestDatabase("cli_validate_node");
    try {
      await applySchemaFixture(nodeDb.client, "node");
      const r = await runCli(
        ["validate", "--schema", join(schemaFixtureDir("node"), "schema.json"), "--fix-replica-identity"],
        { env: { PG_URL: nodeDb.url, DATABASE: nodeDb.name } },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(lines(r.stdout)).toEqual([
        '[0].nodes.children[0]: fixed: ALTER TABLE "public"."node" REPLICA IDENTITY FULL;',
        expect.stringMatching(/schema\.json: valid \(1 index\)$/),
        `[0].nodes.children[0]: public.node joins itself (node_node_id_fkey); each "child" is a row that points at its parent, node_id = the parent's id (set "foreign_key" in the relationship to read it the other way)`,
        `[0].nodes.children[0].children[0]: public.node joins itself (node_node_id_fkey); each "grand_child" is a row that points at its parent, node_id = the parent's id (set "foreign_key" in the relationship to read it the other way)`,
        expect.stringMatching(/^database .*: ready/),
      ]);
    } finally {
      await nodeDb.drop();
    }
  });
});
