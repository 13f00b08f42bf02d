import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentBuilder } from "../../lib/document";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { compareIndexWithDatabase } from "../support/consistency";
import { readSchemaFixture } from "../support/pg";
import { openSyncSuite, type SyncSuite } from "../support/sync-suite";

// A node without `columns` takes every column of its table, also one added while the sync runs:
// the warm poller must neither skip an update of only that column nor leave the documents without
// it, and the consumers must build with it; the index ends equal to what a fresh `render` builds.

let suite: SyncSuite;

beforeAll(async () => {
  suite = await openSyncSuite("partitions", {
    schemaFile: "schema_all_columns.json",
    // A full old row, so the poller can tell an update that changed nothing it knows of.
    setup: "ALTER TABLE customer REPLICA IDENTITY FULL",
  });
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

/** The index against the documents a freshly resolved schema builds (`slotsync render` now). */
async function expectIndexEqualsFreshRender(): Promise<void> {
  const spec = parseSchema(await readSchemaFixture("partitions", "schema_all_columns.json"), {
    env: { DATABASE: "x" },
  });
  const schema = await resolveSchema(spec, suite.db.client, { checkDatabaseName: false });
  const builder = await createDocumentBuilder(schema.indices[0] ?? (undefined as never));
  const report = await compareIndexWithDatabase({
    sink: suite.sink,
    index: suite.targets.get("orders") as string,
    builder,
    client: suite.db.client,
  });
  expect({ missing: report.missing, extra: report.extra, different: report.different }).toEqual({
    missing: [],
    extra: [],
    different: [],
  });
  expect(report.stored).toBe(120);
}

describe("a column added to a table whose node takes every column", () => {
  it("starts equal, the customer object holding the columns resolved at start", async () => {
    await expectIndexEqualsFreshRender();
    const [doc] = await suite.sink.getDocuments(suite.targets.get("orders") as string, ["1|2025-01-02"]);
    expect(Object.keys((doc?.source.customer ?? {}) as object).sort()).toEqual(["id", "name"]);
  });

  it("is picked up by the warm poller and consumers: every document gains it", async () => {
    await suite.db.client.query("ALTER TABLE customer ADD COLUMN tier text");
    await suite.pipeline.poll();
    // No row changed, yet every document of the index changed: one rebuild of the index.
    expect(suite.pipeline.lastHandoffs.map((h) => [h.kind, h.index])).toEqual([["rebuild", "orders"]]);
    await suite.pipeline.drain();
    await expectIndexEqualsFreshRender();
    const [doc] = await suite.sink.getDocuments(suite.targets.get("orders") as string, ["1|2025-01-02"]);
    expect(doc?.source.customer).toMatchObject({ tier: null });
    // Handed on once: the next cycle finds the columns it handed on.
    await suite.pipeline.poll();
    expect(suite.pipeline.lastHandoffs).toEqual([]);
  });

  it("an update of only the new column is not judged unchanged", async () => {
    await suite.db.client.query("UPDATE customer SET tier = 'gold' WHERE id = 1");
    await suite.pipeline.poll();
    const handed = suite.pipeline.lastHandoffs;
    expect(handed.map((h) => h.kind)).toEqual(["keys"]);
    expect(handed[0]?.kind === "keys" ? handed[0].keys.length : 0).toBe(40);
    // An update that changes nothing at all is still skipped.
    await suite.db.client.query("UPDATE customer SET tier = tier WHERE id = 2");
    await suite.pipeline.drain();
    expect(suite.pipeline.lastHandoffs).toEqual([]);
    await expectIndexEqualsFreshRender();
    // Order 3's customer is customer 1.
    const [doc] = await suite.sink.getDocuments(suite.targets.get("orders") as string, ["3|2025-01-04"]);
    expect(doc?.source.customer).toMatchObject({ id: 1, tier: "gold" });
  });

  it("a column dropped leaves the documents the same way", async () => {
    await suite.db.client.query("ALTER TABLE customer DROP COLUMN tier");
    await suite.pipeline.poll();
    expect(suite.pipeline.lastHandoffs.map((h) => [h.kind, h.index])).toEqual([["rebuild", "orders"]]);
    await suite.pipeline.drain();
    await expectIndexEqualsFreshRender();
  });
});
