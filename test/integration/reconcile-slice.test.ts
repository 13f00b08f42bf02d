import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { lender } from "../../lib/database";
import { type ReconcileProgress, reconcileSlice } from "../../lib/reconcile";
import { CheckpointReconcileStore } from "../../lib/runtime";
import { type SearchSink, SinkError } from "../../lib/sink";
import { getServices } from "../support/services";
import { openSyncSuite, type SyncSuite } from "../support/sync-suite";

/** Sets an index's refresh interval (`null`: the engine's default) through the engine's REST API. */
async function setRefreshInterval(index: string, interval: string | null): Promise<void> {
  const es = getServices().elasticsearch;
  const response = await fetch(`${es.url}/${index}/_settings`, {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`${es.username}:${es.password}`).toString("base64")}`,
    },
    body: JSON.stringify({ index: { refresh_interval: interval } }),
  });
  expect(response.status).toBe(200);
}

/** Rows (and documents) the index starts with: 8 pages of 7 ids, the last one short. */
const ROWS = 50;
const PAGE = 7;

/**
 * The suite's sink, with one fault on its `fault`-th write (counted from 1): `deadline` gives the
 * write a deadline already past, so the real `_bulk` write leaves every operation unsent as the
 * deadline's doing; `network` fails the write as a lost connection would.
 */
function faultOnWrite(sink: SearchSink, fault: number, kind: "deadline" | "network"): SearchSink {
  let writes = 0;
  return new Proxy(sink, {
    get(target, prop) {
      if (prop === "write") {
        return (ops: Parameters<SearchSink["write"]>[0], options: Parameters<SearchSink["write"]>[1]) => {
          writes++;
          if (writes !== fault) return target.write(ops, options);
          if (kind === "deadline") return target.write(ops, { ...options, deadline: Date.now() });
          throw new SinkError("the connection was reset", { retryable: true, errorType: "network" });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a reconcile slice whose page did not get written", () => {
  let suite: SyncSuite;
  let pool: pg.Pool;
  let index: string;
  let version: bigint;
  let jobs = 0;

  beforeAll(async () => {
    suite = await openSyncSuite("items", { setup: `DELETE FROM item WHERE id > ${ROWS}` });
    pool = new pg.Pool({ connectionString: suite.db.url, max: 2 });
    index = suite.targets.get("items") as string;
  }, 600_000);
  afterAll(async () => {
    await pool?.end();
    await suite?.close();
  });

  beforeEach(async () => {
    await suite.sink.refresh(index);
    expect(await suite.sink.count(index)).toBe(ROWS);
    // Every row goes: each page of the index holds only documents to delete, so each page writes.
    await suite.db.client.query("DELETE FROM item");
    const { rows } = await suite.db.client.query<{ lsn: string }>(
      "SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn",
    );
    version = BigInt(rows[0]?.lsn ?? "0");
  });

  async function slice(sink: SearchSink, id: string) {
    return reconcileSlice(
      { id, index: "items", target: index, mode: "missing-extra", version },
      {
        connect: lender(pool),
        builder: suite.builders.get("items") as NonNullable<ReturnType<typeof suite.builders.get>>,
        sink,
        store: new CheckpointReconcileStore(suite.store, suite.slot),
      },
      { pageSize: PAGE },
    );
  }

  async function expectEverythingDeleted(progress: ReconcileProgress): Promise<void> {
    await suite.sink.refresh(index);
    expect(await suite.sink.count(index)).toBe(0);
    // Each document counted once, however often its page was done.
    expect(progress.counts.documents).toBe(ROWS);
    expect(progress.counts.extra).toBe(ROWS);
  }

  /** The rows come back, and the sync writes their documents again at a higher version. */
  async function restore(): Promise<void> {
    await suite.db.client.query(
      `INSERT INTO item (id, group_id, name) SELECT g, 1 + g % 1000, 'item ' || g FROM generate_series(1, ${ROWS}) g`,
    );
    await suite.pipeline.drain();
    await suite.sink.refresh(index);
  }

  it("cut short by the deadline after a page: the slice stops, and the next one does the page again", async () => {
    const id = `cut-${++jobs}-${version}`;
    // Page 1 is written; the deadline cuts page 2's deletes short after the scroll moved past it.
    const first = await slice(faultOnWrite(suite.sink, 2, "deadline"), id);
    expect(first.done).toBe(false);
    expect(first.progress.pending?.documents).toHaveLength(PAGE);
    const rest = await slice(suite.sink, id);
    expect(rest.done).toBe(true);
    await expectEverythingDeleted(rest.progress);
    await restore();
  });

  it("failed by the engine after a page: the next delivery does the page again, no document is left", async () => {
    const id = `failed-${++jobs}-${version}`;
    await expect(slice(faultOnWrite(suite.sink, 3, "network"), id)).rejects.toThrow(/connection was reset/);
    const rest = await slice(suite.sink, id);
    expect(rest.done).toBe(true);
    await expectEverythingDeleted(rest.progress);
    await restore();
  });

  it("stops after maxPages pages and goes on from there", async () => {
    const id = `paged-${++jobs}-${version}`;
    const store = new CheckpointReconcileStore(suite.store, suite.slot);
    const deps = {
      connect: lender(pool),
      builder: suite.builders.get("items") as NonNullable<ReturnType<typeof suite.builders.get>>,
      sink: suite.sink,
      store,
    };
    const job = { id, index: "items", target: index, mode: "missing-extra" as const, version };
    let slices = 0;
    let result: Awaited<ReturnType<typeof reconcileSlice>>;
    do {
      result = await reconcileSlice(job, deps, { pageSize: PAGE, maxPages: 3 });
      slices++;
    } while (!result.done && slices < 20);
    // 8 index pages and 1 database page, 3 per slice.
    expect(slices).toBe(3);
    expect(result.progress.counts.pages).toBe(9);
    await expectEverythingDeleted(result.progress);
    await restore();
  });

  it("deletes documents written just before it, not yet refreshed", async () => {
    const id = `unrefreshed-${++jobs}-${version}`;
    // Written before the repair at lower versions, as live changes committed before a truncate
    // are, and not yet visible to search (no periodic refresh).
    await setRefreshInterval(index, "-1");
    try {
      const late = ["9001", "9002", "9003"];
      const written = await suite.sink.write(
        late.map((n) => ({
          kind: "index" as const,
          index,
          id: n,
          version: version - 1n,
          source: { id: Number(n) },
        })),
      );
      expect(written.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok"]);
      const result = await slice(suite.sink, id);
      expect(result.done).toBe(true);
      await suite.sink.refresh(index);
      expect(await suite.sink.count(index)).toBe(0);
      expect(result.progress.counts.extra).toBe(ROWS + late.length);
    } finally {
      await setRefreshInterval(index, null);
    }
    await restore();
  });
});
