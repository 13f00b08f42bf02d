import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SearchSink } from "../../lib/sink";
import { elasticsearchEnv, lines, logEvents, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { createFixtureDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

/**
 * Rules (`slotsync.rules` in schema.json) through the CLI on the real services: the same rules in
 * bootstrap, in the live sync and in `slotsync render`.
 */
const id = randomBytes(4).toString("hex");
const slot = `rules_${id}`;
const index = `rules-${id}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let sink: SearchSink;

const RULES = [
  // Row filter on a column the document does not contain.
  { node: "$root", type: "filter", column: "copyright", op: "ne", value: "withdrawn" },
  { node: "$root", type: "filter", column: "price", op: "gt", value: 5 },
  { node: "$root.reviews", type: "filter", column: "stars", op: "ge", value: 4 },
  { node: "$root.reviews", type: "mask", column: "reviewer" },
  // Named before rename (the document calls it book_title).
  { node: "$root", type: "regex", column: "title", pattern: "[Cc]hocolate", replace: "cocoa" },
  // A change filter: inserts of reviews by "spam" do not trigger a sync.
  {
    node: "$root.reviews",
    type: "filter",
    column: "reviewer",
    op: "ne",
    value: "spam",
    operations: ["insert"],
  },
];

function env(): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    WRITE_TARGETS_CACHE_SECONDS: "0",
    POLL_INTERVAL_SECONDS: "0.1",
    ...elasticsearchEnv(),
  };
}

async function rendered(): Promise<Map<string, Record<string, unknown>>> {
  const r = await runCli(["render"], { env: env() });
  expect(r.code).toBe(0);
  const docs = new Map<string, Record<string, unknown>>();
  for (const line of lines(r.stdout)) {
    const doc = JSON.parse(line) as { _id: string; _source: Record<string, unknown> };
    docs.set(doc._id, doc._source);
  }
  return docs;
}

async function indexed(): Promise<Map<string, Record<string, unknown>>> {
  await sink.refresh(index);
  const docs = new Map<string, Record<string, unknown>>();
  for await (const doc of sink.scan(index)) docs.set(doc.id, doc.source);
  return docs;
}

async function syncOnce(): Promise<void> {
  const r = await runCli(["run", "--once"], { env: env() });
  expect(r.code, r.stderr).toBe(0);
  expect(logEvents(r.stderr).filter((e) => e.level === "error")).toEqual([]);
}

const reviewers = (doc: Record<string, unknown> | undefined) =>
  ((doc?.reviews as { reviewer: string }[] | null) ?? []).map((r) => r.reviewer);

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  scratch = await scratchDir("rules");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  const schema = JSON.parse(await readFile(schemaPath, "utf8")) as {
    slotsync?: unknown;
    mapping: Record<string, unknown>;
    nodes: { transform: { mapping: Record<string, unknown> } };
  }[];
  if (!schema[0]) throw new Error("the bookstore fixture has no index definition");
  schema[0].slotsync = { rules: RULES };
  // The test engines lack analysis-common: no custom analyzers, no ngram field.
  delete schema[0].nodes.transform.mapping.book_isbn;
  // Dynamic mapping would guess `long` for [1.5, 2] when the first value seen is an integer.
  schema[0].mapping.doc_coordinates = { type: "float" };
  await writeFile(schemaPath, JSON.stringify(schema));
  // With full old rows the poller skips updates of columns no document uses: the filter's
  // column (copyright, not in the document) must count as used.
  await db.client.query("ALTER TABLE book REPLICA IDENTITY FULL");
  const es = getServices().elasticsearch;
  sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
});

afterAll(async () => {
  for (const target of (await sink?.getAliasTargets(index).catch(() => [])) ?? [])
    await sink.deleteIndex(target);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("rules in validate, render and bootstrap", () => {
  it("validate reports a bad rule with its JSON path and the fix", async () => {
    const bad = join(scratch.dir, "bad.json");
    const schema = JSON.parse(await readFile(schemaPath, "utf8")) as Record<string, unknown>[];
    (schema[0] as Record<string, unknown>).slotsync = {
      rules: [{ node: "$root.review", type: "filter", column: "stars", op: "ge", value: "many" }],
    };
    await writeFile(bad, JSON.stringify(schema));
    const r = await runCli(["validate", "--schema", bad], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(
      '[0].slotsync.rules[0].node: no node is at "$root.review" (nodes: $root, $root.publisher_label,',
    );
  });

  it("render builds only roots that pass, without failing children, with masks and regex applied", async () => {
    const docs = await rendered();
    // Book 3 has no price and book 4 costs 0.00: both fail "price gt 5".
    expect([...docs.keys()].sort()).toEqual(["1", "2"]);
    const charlie = docs.get("1");
    expect(charlie?.book_title).toBe("Charlie and the cocoa factory");
    // ann (5 stars) stays, masked; bob (3 stars) is left out.
    expect(reviewers(charlie)).toEqual(["a*n"]);
  });

  it("bootstrap copies exactly what render builds", async () => {
    const r = await runCli(["bootstrap", "--fix-replica-identity"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(await indexed()).toEqual(await rendered());
  });
});

describe("rules in the live sync", () => {
  it("a root row that starts matching gets its document; one that stops matching loses it", async () => {
    await db.client.query("UPDATE book SET price = 20 WHERE id = 3");
    await db.client.query("UPDATE book SET price = 1 WHERE id = 1");
    await syncOnce();
    const docs = await indexed();
    expect([...docs.keys()].sort()).toEqual(["2", "3"]);
    expect(docs).toEqual(await rendered());
  });

  it("a change to a filtered column the document does not contain still removes the document", async () => {
    await db.client.query("UPDATE book SET copyright = 'withdrawn' WHERE id = 2");
    await syncOnce();
    expect([...(await indexed()).keys()]).toEqual(["3"]);
    await db.client.query("UPDATE book SET copyright = NULL WHERE id = 2");
    await syncOnce();
    const docs = await indexed();
    expect([...docs.keys()].sort()).toEqual(["2", "3"]);
    expect(docs).toEqual(await rendered());
  });

  it("a child row that stops or starts matching leaves or joins its parent's document", async () => {
    // cat's review of book 3 (4 stars) drops to 2; a new 5-star review joins book 2.
    await db.client.query("UPDATE review SET stars = 2 WHERE id = 3");
    await db.client.query(
      "INSERT INTO review (id, book_id, reviewer, stars, created_at) VALUES (101, 2, 'dora', 5, '2024-06-01T00:00:00Z')",
    );
    await syncOnce();
    const docs = await indexed();
    expect(reviewers(docs.get("3"))).toEqual([]);
    expect(reviewers(docs.get("2"))).toEqual(["d**a"]);
    expect(docs).toEqual(await rendered());
  });

  it("a change filter limited to inserts skips the insert; a later change to the document brings it in", async () => {
    await db.client.query(
      "INSERT INTO review (id, book_id, reviewer, stars, created_at) VALUES (102, 2, 'spam', 5, '2024-06-02T00:00:00Z')",
    );
    await syncOnce();
    expect(reviewers((await indexed()).get("2"))).toEqual(["d**a"]);
    // The row filter (state) has no objection to spam, so render shows it: the change filter only
    // decided that its insert did not trigger a sync.
    expect(reviewers((await rendered()).get("2"))).toEqual(["d**a", "s**m"]);
    await db.client.query("UPDATE book SET description = 'rebuilt' WHERE id = 2");
    await syncOnce();
    const docs = await indexed();
    expect(reviewers(docs.get("2"))).toEqual(["d**a", "s**m"]);
    expect(docs).toEqual(await rendered());
  });
});
