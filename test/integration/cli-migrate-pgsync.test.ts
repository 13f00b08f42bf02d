/**
 * `slotsync migrate-from-pgsync` against a database and an index prepared by a real PGSync 7.3.0
 * (installed from PyPI into a cached virtual environment by test/support/pgsync.ts).
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SearchSink } from "../../lib/sink";
import { elasticsearchEnv, lines, runCli, scratchDir } from "../support/cli";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { type PgSyncHarness, pgsyncHarness } from "../support/pgsync";
import { getServices } from "../support/services";

const index = `migrate_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let harness: PgSyncHarness;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let sink: SearchSink;
let pgsyncSlot: string;

const env = () => ({
  PG_URL: db.url,
  SCHEMA: join(scratch.dir, "schema.json"),
  SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
  // Slot names are per cluster: one of its own keeps this suite apart from others on the shared server.
  SLOTSYNC_SLOT: `migrate_${db.name}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63),
  ...elasticsearchEnv(),
});

/** What PGSync left in the database: slots, triggers, functions, views. */
async function pgsyncLeftovers() {
  const q = async (sql: string) => (await db.client.query<{ name: string }>(sql)).rows.map((r) => r.name);
  return {
    slots: await q(
      `SELECT slot_name AS name FROM pg_replication_slots WHERE database = current_database() AND plugin = 'test_decoding'`,
    ),
    triggers: await q(
      "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'public_node_%' ORDER BY 1",
    ),
    functions: await q("SELECT proname AS name FROM pg_proc WHERE proname = 'table_notify'"),
    views: await q("SELECT matviewname AS name FROM pg_matviews WHERE matviewname = '_view'"),
  };
}

beforeAll(async () => {
  db = await createFixtureDatabase("node");
  scratch = await scratchDir("migrate-pgsync");
  const schema = JSON.parse(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a schema's ${NAME} reference, not a template
    JSON.stringify(await readSchemaFixture("node")).replace('"${DATABASE}"', JSON.stringify(db.name)),
  ) as { index: string }[];
  for (const s of schema) s.index = index;
  await writeFile(join(scratch.dir, "schema.json"), JSON.stringify(schema));
  pgsyncSlot = `${db.name}_${index}`;
  // PGSync's own setup and first sync: triggers, _view, function, slot, and its index with _meta.
  harness = await pgsyncHarness({ database: db.name, index, redisDb: 13 });
  harness.writeSchema(schema);
  await harness.bootstrapAndSync();
  const { url, username, password } = getServices().elasticsearch;
  sink = createSink({ engine: "elasticsearch", node: url, auth: { type: "basic", username, password } });
}, 600_000);

afterAll(async () => {
  for (const name of [index, `${index}-pgsync-backup`]) {
    for (const target of await sink.getAliasTargets(name).catch(() => [])) await sink.deleteIndex(target);
    await sink?.deleteIndex(name).catch(() => undefined);
  }
  await sink?.close();
  await db?.client
    .query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [
      db.name,
    ])
    .catch(() => undefined);
  await db?.drop();
  await harness?.close();
  await scratch?.remove();
});

describe("slotsync migrate-from-pgsync", () => {
  it("PGSync 7.3.0 set the database and the index up (the starting point)", async () => {
    expect(await pgsyncLeftovers()).toEqual({
      slots: [pgsyncSlot],
      triggers: ["public_node_notify", "public_node_truncate"],
      functions: ["table_notify"],
      views: ["_view"],
    });
    expect(await sink.getAliasTargets(index)).toEqual([]);
    const [doc] = await sink.getDocuments(index, ["1"]);
    expect(doc?.source).toHaveProperty("_meta");
  });

  it("without --yes prints what it found and the plan, and changes nothing", async () => {
    const r = await runCli(["migrate-from-pgsync"], { env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toContain(`  replication slots: ${pgsyncSlot} (test_decoding, index ${index})`);
    expect(out).toContain("  triggers: 2 (public_node_notify, public_node_truncate)");
    expect(out).toContain("  function table_notify(): public");
    expect(out).toContain("  materialized view _view: public");
    expect(out).toContain(`  index ${index}: a concrete index with PGSync's _meta`);
    expect(out).toContain('       DROP TRIGGER IF EXISTS "public_node_notify" ON "public"."node";');
    expect(out.at(-1)).toBe("nothing changed: run again with --yes to carry the plan out");
    expect((await pgsyncLeftovers()).slots).toEqual([pgsyncSlot]);
    expect(await sink.getAliasTargets(index)).toEqual([]);
  });

  it("--keep-pgsync stops before the last step; --rollback then gives the name back to PGSync's index", async () => {
    const kept = await runCli(
      ["migrate-from-pgsync", "--yes", "--keep-pgsync", "--fix-replica-identity", "--quiet"],
      {
        env: env(),
      },
    );
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("bootstrap: done");
    expect(kept.stdout).not.toContain("drop-pgsync: done");
    const [serving] = await sink.getAliasTargets(index);
    expect(serving).toBeDefined();
    expect(serving).not.toBe(index);
    expect(await sink.indexExists(`${index}-pgsync-backup`)).toBe(true);
    expect((await pgsyncLeftovers()).slots).toEqual([pgsyncSlot]);

    const back = await runCli(["migrate-from-pgsync", "--rollback", "--yes"], { env: env() });
    expect(back.stderr).toBe("");
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(`restored ${index} from ${index}-pgsync-backup`);
    // PGSync's index again, under its name, with its documents; its artefacts untouched.
    expect(await sink.getAliasTargets(index)).toEqual([]);
    expect(await sink.indexExists(serving ?? "")).toBe(false);
    expect(await sink.indexExists(`${index}-pgsync-backup`)).toBe(false);
    await sink.refresh(index);
    expect(await sink.count(index)).toBe(9);
    expect((await sink.getDocuments(index, ["1"]))[0]?.source).toHaveProperty("_meta");
    expect(await pgsyncLeftovers()).toEqual({
      slots: [pgsyncSlot],
      triggers: ["public_node_notify", "public_node_truncate"],
      functions: ["table_notify"],
      views: ["_view"],
    });
    const { rows } = await db.client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [
      `slotsync_${db.name}`,
    ]);
    expect(rows).toEqual([]);
  });

  it("with --yes takes over: the name becomes slotsync's alias, equal to render; nothing of PGSync remains", async () => {
    const r = await runCli(["migrate-from-pgsync", "--yes", "--fix-replica-identity", "--quiet"], {
      env: env(),
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("backup: done");
    expect(r.stdout).toContain("bootstrap: done");
    expect(r.stdout).toContain("drop-pgsync: done");

    expect(await pgsyncLeftovers()).toEqual({ slots: [], triggers: [], functions: [], views: [] });
    const targets = await sink.getAliasTargets(index);
    expect(targets).toHaveLength(1);
    expect(targets[0]).not.toBe(index);
    expect(await sink.indexExists(`${index}-pgsync-backup`)).toBe(false);

    const rendered = await runCli(["render"], { env: env() });
    expect(rendered.code).toBe(0);
    const want = lines(rendered.stdout).map((l) => JSON.parse(l) as { _id: string; _source: unknown });
    expect(want).toHaveLength(9);
    await sink.refresh(index);
    const have = await sink.getDocuments(
      index,
      want.map((d) => d._id),
    );
    expect(have.map((d) => d?.source)).toEqual(want.map((d) => d._source));
    expect(await sink.count(index)).toBe(9);

    // Again: every step is recorded, nothing is done twice.
    const again = await runCli(["migrate-from-pgsync", "--yes"], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("1. backup (done)");
    expect(again.stdout).not.toContain("bootstrap: done");
  });
});
