import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONSUMER_OPTIONS } from "../../lib/consumer";
import {
  expectIndexEqualsDatabase,
  openSyncSuite,
  type SyncSuite,
  whileSyncing,
} from "../support/sync-suite";

describe("TRUNCATE of a root of 100,000 documents", () => {
  let suite: SyncSuite;
  beforeAll(async () => {
    suite = await openSyncSuite("items");
  }, 600_000);
  afterAll(async () => {
    await suite?.close();
  });

  it("is reconciled by paged work in slices, each within a consumer's time budget", async () => {
    const index = suite.targets.get("items") as string;
    await suite.sink.refresh(index);
    expect(await suite.sink.count(index)).toBe(100_000);
    // Each consumer batch gets 2 s, as a Lambda's remaining time would bound it, and a repair does
    // at most 10 pages of `rangePageSize` ids per batch: the 100,000 deletes take at least
    // 100,000 / (10 pages × page size) batches, each ending with a follow-up message, on any
    // machine (the deadline may end a slice sooner).
    suite.pipeline.batchBudgetMs = 2000;
    suite.pipeline.repairPagesPerSlice = 10;
    const before = { ...suite.pipeline.totals };
    await suite.db.client.query("TRUNCATE item");
    await suite.db.client.query(
      "INSERT INTO item (id, group_id, name) SELECT g, 1, 'after ' || g FROM generate_series(1, 25) g",
    );
    await suite.pipeline.drain();
    const continuations = suite.pipeline.totals.continuations - before.continuations;
    expect(continuations).toBeGreaterThanOrEqual(
      Math.floor(100_000 / DEFAULT_CONSUMER_OPTIONS.rangePageSize / 10),
    );
    await expectIndexEqualsDatabase(suite, "items", "item");
    expect((await suite.pipeline.compare("items")).stored).toBe(25);
  }, 600_000);
});

describe("TRUNCATE of a table that is both root and child (self-referencing tree)", () => {
  let suite: SyncSuite;
  beforeAll(async () => {
    suite = await openSyncSuite("tree");
  }, 120_000);
  afterAll(async () => {
    await suite?.close();
  });

  it("removes the documents whose rows went and rebuilds the rest", async () => {
    await expectIndexEqualsDatabase(suite, "tree", "node");
    await whileSyncing(suite, async () => {
      await suite.db.client.query(`BEGIN;
        TRUNCATE node;
        INSERT INTO node (id, parent_id, name) VALUES (10, NULL, 'new root'), (11, 10, 'new child');
        COMMIT`);
      await suite.db.client.query("INSERT INTO node (id, parent_id, name) VALUES (12, 11, 'grandchild')");
    });
    await expectIndexEqualsDatabase(suite, "tree", "node");
  });
});

describe("TRUNCATE of the base table of a root view", () => {
  let suite: SyncSuite;
  beforeAll(async () => {
    suite = await openSyncSuite("bookstore", { schemaFile: "schema_view.json" });
  }, 120_000);
  afterAll(async () => {
    await suite?.close();
  });

  it("removes the documents of the rows that went", async () => {
    await expectIndexEqualsDatabase(suite, "book_view", "book_view");
    await whileSyncing(suite, async () => {
      await suite.db.client.query("TRUNCATE book CASCADE");
      await suite.db.client.query(
        "INSERT INTO book (id, isbn, title, publisher_id) VALUES (70, 'v70', 'after', (SELECT min(id) FROM publisher))",
      );
    });
    await expectIndexEqualsDatabase(suite, "book_view", "book_view");
  });
});
