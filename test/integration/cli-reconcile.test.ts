import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { elasticsearchEnv, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { createFixtureDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

const index = `cli-reconcile-${randomBytes(4).toString("hex")}`;
const slot = `slotsync_cli_rec_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let sink: SearchSink;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;

function cli(...args: string[]) {
  return runCli(args, {
    cwd: scratch.dir,
    env: {
      PG_URL: db.url,
      DATABASE: db.name,
      SCHEMA: schemaPath,
      SLOTSYNC_SLOT: slot,
      ...elasticsearchEnv(),
    },
  });
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  scratch = await scratchDir("reconcile");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  const es = getServices().elasticsearch;
  sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
  await sink.createIndex(index, {
    settings: { ...TOMBSTONE_INDEX_SETTINGS },
    mappings: { properties: { doc_coordinates: { type: "float" } } },
  });
}, 120_000);

afterAll(async () => {
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("slotsync reconcile and verify", () => {
  it("reconcile fills an empty index; verify --all then finds it equal (exit 0)", async () => {
    const filled = await cli("reconcile");
    expect(filled.stderr).toBe("");
    expect(filled.code).toBe(0);
    expect(filled.stdout).toMatch(/did write \d+ missing/);
    const verified = await cli("verify", "--all");
    expect(verified.stdout).toMatch(new RegExp(`^${index}: equal \\(all`));
    expect(verified.code).toBe(0);
  });

  it("verify names what is missing, extra and different (exit 3); a dry run changes nothing; reconcile --rebuild repairs it", async () => {
    await db.client.query("INSERT INTO book (id, isbn, title) VALUES (777, 'v777', 'never synced')");
    // Document 1 changed behind the sync's back, at the version it was written with.
    const [one] = await sink.getDocuments(index, ["1"]);
    await sink.write([
      { kind: "index", index, id: "999999", version: 1n, source: { book_title: "no such row" } },
      { kind: "index", index, id: "1", version: one?.version ?? 0n, source: { book_title: "tampered" } },
    ]);
    // verify lists the index's ids by search, which sees writes after a refresh.
    await sink.refresh(index);
    const found = await cli("verify", "--all", "--settle", "0", "--json");
    expect(found.code).toBe(3);
    const [report] = JSON.parse(found.stdout) as {
      missing: { count: number; examples: string[] };
      extra: { count: number; examples: string[] };
      different: { count: number; examples: string[] };
    }[];
    expect(report?.missing).toEqual({ count: 1, examples: ["777"] });
    expect(report?.extra).toEqual({ count: 1, examples: ["999999"] });
    expect(report?.different).toEqual({ count: 1, examples: ["1"] });

    const sampled = await cli("verify", "--sample", "1000", "--settle", "0");
    expect(sampled.code).toBe(3);
    expect(sampled.stdout).toContain("DIVERGED (sample");

    const dry = await cli("reconcile", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would delete 1 extra, would write 1 missing/);
    expect((await cli("verify", "--all", "--settle", "0")).code).toBe(3);

    const repaired = await cli("reconcile", "--rebuild");
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toMatch(/did delete 1 extra, did write 1 missing, did rebuild/);
    const after = await cli("verify", "--all");
    expect(after.stdout).toContain("equal");
    expect(after.code).toBe(0);
  });

  it("bad input exits 2 with the fix", async () => {
    const unknown = await cli("verify", "--index", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the schema has no index "nope"');
    const both = await cli("verify", "--all", "--sample", "5");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--sample and --all exclude each other");
  });
});
