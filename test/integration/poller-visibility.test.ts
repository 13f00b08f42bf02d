import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VisibilityError, waitUntilVisible } from "../../lib/poller";
import { createTestDatabase, type TestDatabase } from "../support/pg";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("visibility");
  await db.client.query("CREATE TABLE t (id int PRIMARY KEY)");
});
afterAll(async () => db?.drop());

describe("waitUntilVisible", () => {
  it("returns at once for committed transactions", async () => {
    await db.client.query("BEGIN");
    await db.client.query("INSERT INTO t VALUES (1)");
    const { rows } = await db.client.query<{ xid: string }>(
      "SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS xid",
    );
    await db.client.query("COMMIT");
    expect(await waitUntilVisible(db.client, [Number(rows[0]?.xid)], { timeoutMs: 1000 })).toBe(0);
  });

  it("waits for a transaction still in progress, then fails with a retryable error", async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("INSERT INTO t VALUES (2)");
      const { rows } = await other.query<{ xid: string }>(
        "SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS xid",
      );
      const err = await waitUntilVisible(db.client, [Number(rows[0]?.xid)], {
        timeoutMs: 200,
        sleep: async () => {},
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VisibilityError);
      expect((err as VisibilityError).retryable).toBe(true);
      await other.query("COMMIT");
      expect(await waitUntilVisible(db.client, [Number(rows[0]?.xid)], { timeoutMs: 1000 })).toBe(0);
    } finally {
      await other.end();
    }
  });
});
