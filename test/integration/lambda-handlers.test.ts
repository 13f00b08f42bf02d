import { randomBytes } from "node:crypto";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { handler as consumer } from "../../lambdas/consumer";
import { handler as poller } from "../../lambdas/poller";
import { decodeMessage, recordFromSqsMessage, type SqsEvent } from "../../lib/queue";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../support/lambda-env";
import { applySchemaFixture, createTestDatabase, schemaFixtureDir, type TestDatabase } from "../support/pg";
import { createTestQueues, type TestQueues } from "../support/sqs";

// The two Lambda handlers, wired from environment variables as in AWS (the Lambda runtime itself is
// the only thing not real here: the handlers are called with a context object).

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_lambda_${suffix}`;
const index = "bookstore";
let db: TestDatabase;
let queues: TestQueues;
let sink: SearchSink;
const saved = { ...process.env };

const context = (ms: number) => ({
  awsRequestId: `req-${randomBytes(3).toString("hex")}`,
  getRemainingTimeInMillis: () => ms,
});

beforeAll(async () => {
  db = await createTestDatabase("lambda");
  await applySchemaFixture(db.client, "bookstore");
  await db.client.query("ALTER TABLE review REPLICA IDENTITY FULL");
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  queues = await createTestQueues("lambda");
  Object.assign(
    process.env,
    lambdaEnvironment(
      { pgUrl: db.url, schema: `${schemaFixtureDir("bookstore")}/schema.json`, slot, queues },
      {
        DATABASE: db.name,
        POLL_INTERVAL_SECONDS: "0.1",
        POLLER_SAFETY_MARGIN_SECONDS: "1",
        POLLER_RUN_SECONDS: "1",
        POLLER_MODE: "latency",
      },
    ),
  );
  sink = createSink(elasticsearchSinkConfig());
  await sink.deleteIndex(index).catch(() => undefined);
  await sink.createIndex(index, {
    settings: { ...TOMBSTONE_INDEX_SETTINGS },
    mappings: { properties: { doc_coordinates: { type: "float" } } },
  });
});

afterAll(async () => {
  process.env = saved;
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
});

describe("Lambda handlers", () => {
  it("poller → SQS → consumer → Elasticsearch, from environment configuration", async () => {
    await db.client.query("UPDATE book SET title = 'From the Lambda' WHERE id = 1");
    await db.client.query("UPDATE review SET book_id = 2 WHERE id = 2");
    // A scheduled run may end before it reaches the changes (a busy machine, a short budget); the
    // next run picks them up, so run it as the schedule would until they were handed on.
    let keys = 0;
    const deadline = Date.now() + 60_000;
    while (keys < 2 && Date.now() < deadline) {
      const summary = await poller({}, context(1500));
      expect(summary).toMatchObject({ outcome: "completed", slot });
      keys += Number(summary.keys);
    }
    expect(keys).toBeGreaterThanOrEqual(2);

    const res = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        AttributeNames: ["All"],
      }),
    );
    const event: SqsEvent = { Records: (res.Messages ?? []).map((m) => recordFromSqsMessage(m)) };
    expect(event.Records.length).toBeGreaterThan(0);
    const response = await consumer(event, context(30_000));
    expect(response.batchItemFailures).toEqual([]);

    await sink.refresh(index);
    const [one, two] = await sink.getDocuments(index, ["1", "2"]);
    expect(one?.source).toMatchObject({ book_title: "From the Lambda" });
    expect((two?.source.reviews as { reviewer: string }[] | null)?.map((r) => r.reviewer)).toContain("bob");
  });

  it("the poller stops starting cycles POLLER_RUN_SECONDS after its start, long before its timeout", async () => {
    // Ten minutes of Lambda time, but the run is meant to end as the next tick arrives.
    const summary = await poller({}, context(10 * 60_000));
    expect(summary).toMatchObject({ outcome: "completed", slot });
    // About one second of 0.1 s polls; running to the timeout would be thousands of cycles.
    expect(Number(summary.cycles)).toBeGreaterThan(0);
    expect(Number(summary.cycles)).toBeLessThan(50);
  });

  it("in economy mode a run ends at the first cycle that finds nothing once changes stop", async () => {
    vi.resetModules();
    process.env.POLLER_MODE = "economy";
    process.env.POLLER_IDLE_GRACE_SECONDS = "0.3";
    try {
      const fresh = (await import("../../lambdas/poller")) as typeof import("../../lambdas/poller");
      // Nothing to read: one cycle, then the run ends (the minute's run costs a fraction of a second).
      const idle = await fresh.handler({}, context(10 * 60_000));
      expect(idle).toMatchObject({ outcome: "idle", slot, cycles: 1, changes: 0, mode: "economy" });
      // A change: handed on, then polled for the idle grace, then the run ends.
      await db.client.query("UPDATE book SET title = title || ' (economy)' WHERE id = 2");
      const busy = await fresh.handler({}, context(10 * 60_000));
      expect(busy).toMatchObject({ outcome: "idle", slot, keys: 1 });
      expect(Number(busy.cycles)).toBeGreaterThan(1);
      const bodies = await queues.drain({ count: 1, timeoutMs: 5000 });
      expect(bodies.map((b) => decodeMessage(b))).toMatchObject([{ kind: "keys", keys: [["2"]] }]);
    } finally {
      process.env.POLLER_MODE = "latency";
      delete process.env.POLLER_IDLE_GRACE_SECONDS;
    }
  });

  it("refuses to start with one error naming every bad variable, and starts once they are fixed", async () => {
    vi.resetModules();
    const fresh = (await import("../../lambdas/poller")) as typeof import("../../lambdas/poller");
    const good = process.env.PG_URL;
    delete process.env.PG_URL;
    process.env.POLL_INTERVAL_SECONDS = "soon";
    try {
      const err = await fresh.handler({}, context(1500)).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/PG_URL is required/);
      expect((err as Error).message).toMatch(/POLL_INTERVAL_SECONDS must be a number/);
    } finally {
      process.env.PG_URL = good;
      process.env.POLL_INTERVAL_SECONDS = "0.1";
    }
    // A failed cold start is not cached: the next invocation reads the fixed configuration.
    expect(await fresh.handler({}, context(1500))).toMatchObject({ outcome: "completed" });
  });
});
