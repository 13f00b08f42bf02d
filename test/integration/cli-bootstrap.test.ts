import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SearchSink } from "../../lib/sink";
import { elasticsearchEnv, lines, runCli, scratchDir } from "../support/cli";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

const id = randomBytes(4).toString("hex");
const slot = `cli_bootstrap_${id}`;
const index = `cli-bootstrap-${id}`;
/** Books added to the fixture's four, so the copy spans several ranges. */
const BOOKS = 3000;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let sink: SearchSink;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    // Nothing else consumes: no write-target cache to wait out.
    WRITE_TARGETS_CACHE_SECONDS: "0",
    BOOTSTRAP_RANGE_ROWS: "500",
    ...elasticsearchEnv(),
    ...extra,
  };
}

async function slotExists(): Promise<boolean> {
  const { rows } = await db.client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]);
  return rows.length > 0;
}

/** `slotsync render` (the ground truth) as `_id` → `_source` JSON. */
async function rendered(): Promise<Map<string, unknown>> {
  const r = await runCli(["render"], { env: env() });
  expect(r.code).toBe(0);
  const docs = new Map<string, unknown>();
  for (const line of lines(r.stdout)) {
    const doc = JSON.parse(line) as { _id: string; _source: unknown };
    docs.set(doc._id, doc._source);
  }
  return docs;
}

async function indexed(): Promise<Map<string, unknown>> {
  await sink.refresh(index);
  const docs = new Map<string, unknown>();
  for await (const doc of sink.scan(index)) docs.set(doc.id, doc.source);
  return docs;
}

/** The index holds exactly what render builds from the database. */
async function expectIndexEqualsRender(): Promise<void> {
  const expected = await rendered();
  const actual = await indexed();
  expect(expected.size).toBe(BOOKS);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [docId, source] of expected) expect(actual.get(docId), `document ${docId}`).toEqual(source);
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  await db.client.query(`
    INSERT INTO publisher (id, name, is_active) SELECT g, 'Publisher ' || g, g % 2 = 0 FROM generate_series(4, 30) g;
    INSERT INTO author (id, name, date_of_birth, city_id)
      SELECT g, 'Author ' || g, timestamp '1950-01-01' + g * interval '1 day', 1 + g % 3 FROM generate_series(5, 400) g;
    INSERT INTO book (id, isbn, title, description, publisher_id, publish_date, price)
      SELECT g, 'isbn-' || g, 'Title ' || g, 'About book ' || g, 1 + g % 30,
             timestamp '2000-01-01' + g * interval '1 hour', (g % 100) + 0.99
        FROM generate_series(5, ${BOOKS}) g;
    INSERT INTO book_author (id, book_isbn, author_id)
      SELECT g + 10, 'isbn-' || g, 1 + g % 400 FROM generate_series(5, ${BOOKS}) g;
    INSERT INTO review (id, book_id, reviewer, stars, created_at)
      SELECT g + 10, 1 + g % ${BOOKS}, 'reader ' || g, 1 + g % 5, timestamptz '2024-01-01' + g * interval '1 minute'
        FROM generate_series(1, ${BOOKS * 2}) g;
    ANALYZE;`);
  scratch = await scratchDir("cli-bootstrap");
  // The test engines lack analysis-common: no custom analyzers, no ngram field.
  const [spec] = (await readSchemaFixture("bookstore")) as Record<string, unknown>[];
  const copy = structuredClone(spec) as {
    index: string;
    setting?: unknown;
    mapping: unknown;
    nodes: { transform: { mapping: Record<string, unknown> } };
  };
  copy.index = index;
  delete copy.setting;
  delete copy.nodes.transform.mapping.book_isbn;
  copy.mapping = { authors: { type: "nested" }, doc_coordinates: { type: "float" } };
  schemaPath = join(scratch.dir, "schema.json");
  await writeFile(schemaPath, JSON.stringify([copy], null, 2));
  const es = getServices().elasticsearch;
  sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
}, 120_000);

afterAll(async () => {
  if (sink) {
    for (const name of await sink.getAliasTargets(index).catch(() => [] as string[])) {
      await sink.deleteIndex(name).catch(() => undefined);
    }
    await sink.deleteIndex(index).catch(() => undefined);
    await sink.close();
  }
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("slotsync bootstrap", () => {
  it("a table missing REPLICA IDENTITY FULL: exit 2 with the fix SQL, nothing created", async () => {
    const r = await runCli(["bootstrap"], { env: env() });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toContainEqual(
      expect.stringMatching(/^\S.*: .+ — fix: ALTER TABLE .*review.* REPLICA IDENTITY FULL;?$/),
    );
    expect(r.stderr).toMatch(/--fix-replica-identity/);
    expect(await slotExists()).toBe(false);
    expect(await sink.getAliasTargets(index)).toEqual([]);
  });

  it("copies every book in-process behind the alias; the index equals slotsync render", async () => {
    const r = await runCli(["bootstrap", "--fix-replica-identity", "--consumers", "3"], { env: env() });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const targets = await sink.getAliasTargets(index);
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatch(new RegExp(`^${index}-\\d{17}$`));
    expect(r.stdout).toMatch(new RegExp(`^${index}: serving "${targets[0]}": 3,000 documents in `));
    expect(await slotExists()).toBe(true);
    const { rows } = await db.client.query<{ relreplident: string }>(
      "SELECT relreplident FROM pg_class WHERE oid = 'review'::regclass",
    );
    expect(rows[0]?.relreplident).toBe("f");
    await expectIndexEqualsRender();
  });

  it("run again without --reindex: nothing is copied, the alias stays", async () => {
    const before = await sink.getAliasTargets(index);
    const r = await runCli(["bootstrap"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${index}: served and in sync; nothing to do (re-index to rebuild it)\n`);
    expect(await sink.getAliasTargets(index)).toEqual(before);
  });

  it("--reindex copies into a new index and switches the alias to it", async () => {
    const [before] = await sink.getAliasTargets(index);
    await db.client.query("UPDATE book SET title = 'Rewritten' WHERE id = 7");
    const r = await runCli(["bootstrap", "--reindex", "--delete-old-now"], { env: env() });
    expect(r.code).toBe(0);
    const after = await sink.getAliasTargets(index);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(r.stdout).toMatch(new RegExp(`^${index}: serving "${after[0]}"`));
    expect(await sink.indexExists(before as string)).toBe(false);
    await expectIndexEqualsRender();
    expect(((await indexed()).get("7") as { book_title: string }).book_title).toBe("Rewritten");
  });
});

describe("slotsync status and reset", () => {
  it("status shows the index served by its copy", async () => {
    const [concrete] = await sink.getAliasTargets(index);
    const r = await runCli(["status", "--json"], { env: env() });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { copies: unknown[] };
    expect(report.copies).toEqual([
      {
        index,
        state: "serving",
        servingKind: "alias",
        serving: [concrete],
        building: null,
        retired: [],
        reindexNeeded: false,
      },
    ]);
    const text = await runCli(["status"], { env: env() });
    expect(text.code).toBe(0);
    expect(lines(text.stdout)).toContainEqual(
      expect.stringMatching(new RegExp(`^copy ${index} +serving ${concrete}$`)),
    );
  });

  it("reset --delete-indices without --yes: exit 2 with the reason, nothing touched", async () => {
    const r = await runCli(["reset", "--delete-indices"], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--delete-indices .* needs --yes \(add --yes to confirm/);
    expect(await slotExists()).toBe(true);
    expect(await sink.getAliasTargets(index)).toHaveLength(1);
  });

  it("reset --delete-indices --yes drops the slot and deletes the indices", async () => {
    const [concrete] = await sink.getAliasTargets(index);
    const r = await runCli(["reset", "--delete-indices", "--yes"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dropped replication slot "${slot}"`);
    expect(r.stdout).toContain(`deleted indices: ${concrete}`);
    expect(await slotExists()).toBe(false);
    expect(await sink.indexExists(index)).toBe(false);
    expect(await sink.indexExists(concrete as string)).toBe(false);
  });
});
