import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectIndexEqualsDatabase as expectIndexEquals,
  openSyncSuite,
  type SyncSuite,
  whileSyncing,
} from "../support/sync-suite";

let suite: SyncSuite;

beforeAll(async () => {
  suite = await openSyncSuite("partitions");
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

async function count(sql: string): Promise<number> {
  const { rows } = await suite.db.client.query<{ n: string }>(sql);
  return Number(rows[0]?.n ?? -1);
}

function expectIndexEqualsDatabase(): Promise<void> {
  return expectIndexEquals(suite, "orders", "orders");
}

describe("range-partitioned root while the sync runs", () => {
  it("starts equal", async () => {
    await expectIndexEqualsDatabase();
    expect((await suite.pipeline.compare("orders")).stored).toBe(120);
  });

  it("reads a partition created after the poller started, from its first row on", async () => {
    await whileSyncing(suite, async () => {
      // Rows in the creating transaction itself, and more afterwards.
      await suite.db.client.query(`BEGIN;
        CREATE TABLE orders_2025_03 PARTITION OF orders FOR VALUES FROM ('2025-03-01') TO ('2025-04-01');
        INSERT INTO orders (id, day, customer_id, total) VALUES (500, '2025-03-02', 1, 5), (501, '2025-03-03', 2, 6);
        COMMIT`);
      await suite.db.client.query(
        "INSERT INTO orders (id, day, customer_id, total) SELECT g, DATE '2025-03-01' + g % 28, 3, g FROM generate_series(502, 540) g",
      );
      await suite.db.client.query("UPDATE orders SET total = 99 WHERE id = 501");
      await suite.db.client.query(`CREATE TABLE note_2025_03 PARTITION OF note FOR VALUES FROM ('2025-03-01') TO ('2025-04-01');
        ALTER TABLE note_2025_03 REPLICA IDENTITY FULL;
        INSERT INTO note (id, day, order_id, order_day, body) VALUES (900, '2025-03-05', 500, '2025-03-02', 'march note')`);
    });
    await expectIndexEqualsDatabase();
    const [doc] = await suite.sink.getDocuments(suite.targets.get("orders") as string, ["500|2025-03-02"]);
    expect(doc?.source).toMatchObject({ notes: ["march note"] });
  });

  it("hands on rows of a new partition as keys from the WAL; the new empty partition costs no repair", async () => {
    await suite.db.client.query(
      "CREATE TABLE orders_2025_05 PARTITION OF orders FOR VALUES FROM ('2025-05-01') TO ('2025-06-01')",
    );
    await suite.pipeline.poll();
    // The new partition is read (empty): no reconcile of the whole index.
    expect(suite.pipeline.lastHandoffs).toEqual([]);
    await suite.pipeline.consume();
    await suite.db.client.query(
      "INSERT INTO orders (id, day, customer_id, total) VALUES (800, '2025-05-02', 1, 8)",
    );
    await suite.pipeline.poll();
    const handed = suite.pipeline.lastHandoffs;
    expect(handed.map((h) => h.kind)).toEqual(["keys"]);
    expect(handed[0]?.kind === "keys" ? handed[0].keys : []).toEqual([["800", "2025-05-02"]]);
    await suite.pipeline.drain();
    await expectIndexEqualsDatabase();
  });

  it("hands on an attached partition's rows as keys, and reconciles only for a detach", async () => {
    await suite.db.client.query(`CREATE TABLE orders_2025_06 (LIKE orders INCLUDING ALL);
      INSERT INTO orders_2025_06 (id, day, customer_id, total)
        SELECT g, DATE '2025-06-01' + g % 30, 2, g FROM generate_series(660, 664) g;
      CREATE TABLE note_2025_06 (LIKE note INCLUDING ALL);
      ALTER TABLE note_2025_06 REPLICA IDENTITY FULL;
      INSERT INTO note VALUES (960, '2025-01-20', 1, '2025-01-02', 'january note');
      INSERT INTO note_2025_06 VALUES (961, '2025-06-03', 2, '2025-01-03', 'june note of order 2')`);
    await suite.pipeline.drain();
    await suite.db.client.query(
      `ALTER TABLE orders ATTACH PARTITION orders_2025_06 FOR VALUES FROM ('2025-06-01') TO ('2025-07-01');
       ALTER TABLE note ATTACH PARTITION note_2025_06 FOR VALUES FROM ('2025-06-01') TO ('2025-07-01')`,
    );
    await suite.pipeline.poll();
    const handed = suite.pipeline.lastHandoffs;
    // The five attached orders (root partition) and order 2, whose note arrived (child partition).
    expect(handed.map((h) => h.kind)).toEqual(["keys"]);
    expect((handed[0]?.kind === "keys" ? handed[0].keys.map((k) => k.join("|")) : []).sort()).toEqual([
      "2|2025-01-03",
      "660|2025-06-01",
      "661|2025-06-02",
      "662|2025-06-03",
      "663|2025-06-04",
      "664|2025-06-05",
    ]);
    await suite.pipeline.drain();
    await expectIndexEqualsDatabase();
    const [doc] = await suite.sink.getDocuments(suite.targets.get("orders") as string, ["2|2025-01-03"]);
    expect(doc?.source).toMatchObject({ notes: expect.arrayContaining(["june note of order 2"]) });

    await suite.db.client.query("ALTER TABLE orders DETACH PARTITION orders_2025_06");
    await suite.pipeline.poll();
    expect(suite.pipeline.lastHandoffs.map((h) => h.kind)).toEqual(["clear"]);
    await suite.pipeline.drain();
    await expectIndexEqualsDatabase();
  });

  it("syncs the rows of an attached partition and removes the documents of a detached one", async () => {
    await suite.db.client.query(`CREATE TABLE orders_2025_04 (LIKE orders INCLUDING ALL);
      INSERT INTO orders_2025_04 (id, day, customer_id, total)
        SELECT g, DATE '2025-04-01' + g % 30, 1, g FROM generate_series(600, 650) g`);
    const january = await count("SELECT count(*) AS n FROM orders_2025_01");
    expect(january).toBeGreaterThan(0);
    await whileSyncing(suite, async () => {
      await suite.db.client.query(
        "ALTER TABLE orders ATTACH PARTITION orders_2025_04 FOR VALUES FROM ('2025-04-01') TO ('2025-05-01')",
      );
      await suite.db.client.query("ALTER TABLE orders DETACH PARTITION orders_2025_01");
      // A note partition detached: the notes of February leave their documents.
      await suite.db.client.query("ALTER TABLE note DETACH PARTITION note_2025_02");
    });
    await expectIndexEqualsDatabase();
    const index = suite.targets.get("orders") as string;
    await suite.sink.refresh(index);
    expect(await suite.sink.count(index, { range: { day: { lt: "2025-02-01" } } })).toBe(0);
    expect(await suite.sink.count(index, { range: { day: { gte: "2025-04-01", lt: "2025-05-01" } } })).toBe(
      51,
    );
  });

  it("a partition dropped and created again under its name between two cycles is reconciled", async () => {
    await suite.pipeline.drain();
    const march = await count("SELECT count(*) AS n FROM orders_2025_03");
    expect(march).toBeGreaterThan(0);
    await suite.db.client.query(`DROP TABLE orders_2025_03;
      CREATE TABLE orders_2025_03 PARTITION OF orders FOR VALUES FROM ('2025-03-01') TO ('2025-04-01')`);
    await suite.pipeline.poll();
    expect(suite.pipeline.lastHandoffs.map((h) => h.kind)).toEqual(["clear"]);
    await suite.pipeline.drain();
    await expectIndexEqualsDatabase();
  });

  it("TRUNCATE of one partition removes only that partition's documents", async () => {
    const index = suite.targets.get("orders") as string;
    const february = await count("SELECT count(*) AS n FROM orders_2025_02");
    const before = await count("SELECT count(*) AS n FROM orders");
    expect(february).toBeGreaterThan(0);
    await whileSyncing(suite, async () => {
      await suite.db.client.query("TRUNCATE orders_2025_02");
      await suite.db.client.query(
        "INSERT INTO orders (id, day, customer_id, total) VALUES (700, '2025-02-10', 2, 7)",
      );
    });
    await expectIndexEqualsDatabase();
    await suite.sink.refresh(index);
    expect(await suite.sink.count(index)).toBe(before - february + 1);
  });
});
