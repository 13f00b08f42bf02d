import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import {
  elasticsearchEnv,
  lines,
  logEvents,
  runCli,
  scratchDir,
  startCli,
  writeSchemaCopy,
} from "../support/cli";
import { startFaultProxy } from "../support/fault-proxy";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

const id = randomBytes(4).toString("hex");
const slot = `cli_run_${id}`;
const index = `cli_run_${id}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let sink: SearchSink;
let queues: TestQueues | undefined;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    POLL_INTERVAL_SECONDS: "0.1",
    ...elasticsearchEnv(),
    ...extra,
  };
}

async function confirmedLsn(): Promise<string> {
  const { rows } = await db.client.query<{ lsn: string }>(
    "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  return rows[0]?.lsn ?? "none";
}

/** The document as `slotsync render` builds it from the database now. */
async function rendered(docId: string): Promise<Record<string, unknown> | undefined> {
  const r = await runCli(["render", "--ids", docId], { env: env() });
  expect(r.code).toBe(0);
  const line = lines(r.stdout)[0];
  return line ? (JSON.parse(line) as { _source: Record<string, unknown> })._source : undefined;
}

async function indexed(docId: string): Promise<Record<string, unknown> | undefined> {
  const [doc] = await sink.getDocuments(index, [docId]);
  return doc?.source;
}

/** Polls the index until the document satisfies `ok` (the run is asynchronous), with a deadline. */
async function waitForDocument(docId: string, ok: (source: Record<string, unknown> | undefined) => boolean) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const source = await indexed(docId);
    if (ok(source)) return source;
    if (Date.now() > deadline)
      throw new Error(`document ${docId} never matched; last: ${JSON.stringify(source)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  scratch = await scratchDir("cli-run");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  const resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("bookstore"), { env: { DATABASE: db.name } }),
    db.client,
  );
  for (const need of resolved.replicaIdentityNeeds) await db.client.query(need.sql);
  const es = getServices().elasticsearch;
  sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
});

afterAll(async () => {
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
  await scratch?.remove();
});

describe("slotsync run: start-up checks", () => {
  it("a missing slot: one line telling to run slotsync bootstrap, exit 1", async () => {
    const r = await runCli(["run", "--once"], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `slotsync: slot ${slot}: replication slot "${slot}" does not exist — run \`slotsync bootstrap\` (or invoke the bootstrap Lambda) to create it and copy the data\n`,
    );
  });

  it("a missing index: one line telling to run slotsync bootstrap, exit 1", async () => {
    await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
    const r = await runCli(["run", "--once"], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `slotsync: index ${index}: index "${index}" does not exist on elasticsearch — run \`slotsync bootstrap\` to create it and copy the data\n`,
    );
    // The test engine's dynamic mapping would guess `long` for [1.5, 2]; bootstrap sets mappings.
    await sink.createIndex(index, {
      settings: { ...TOMBSTONE_INDEX_SETTINGS },
      mappings: { properties: { doc_coordinates: { type: "float" } } },
    });
  });
});

describe("slotsync run with the in-process queue", () => {
  it("--once moves changes into the index: each document equals what render builds; the slot advances", async () => {
    const before = await confirmedLsn();
    await db.client.query("UPDATE book SET title = 'Matilda' WHERE id = 1");
    // Only REPLICA IDENTITY FULL on review says which book the deleted review belonged to.
    await db.client.query("DELETE FROM review WHERE id = 3");
    const r = await runCli(["run", "--once"], { env: env() });
    expect(r.code).toBe(0);
    const events = logEvents(r.stderr);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["start", "batch", "cycle", "stop"]));
    // Autovacuum's ANALYZE may add empty transactions of its own: at least our two, exactly two keys.
    const cycle = events.find((e) => e.event === "cycle");
    expect(cycle?.keys).toBe(2);
    expect(Number(cycle?.transactions)).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.event === "batch").reduce((n, e) => n + Number(e.indexed), 0)).toBe(2);
    expect(await indexed("1")).toEqual(await rendered("1"));
    expect((await indexed("1"))?.book_title).toBe("Matilda");
    expect(await indexed("3")).toEqual(await rendered("3"));
    expect((await indexed("3"))?.reviews).toBeNull();
    expect(await confirmedLsn()).not.toBe(before);
  });

  it("the slot advances only after the documents are indexed; a forced stop loses nothing", async () => {
    const proxy = await startFaultProxy({ target: getServices().elasticsearch.url });
    try {
      proxy.setFaults({ rate: 1, statuses: [503], onlyPaths: /_bulk/ });
      const before = await confirmedLsn();
      const run = startCli(["run"], {
        env: env({ ...elasticsearchEnv(proxy.url), ELASTICSEARCH_MAX_RETRIES: "0" }),
      });
      await run.waitFor(/"event":"start"/);
      await db.client.query("UPDATE book SET title = 'The BFG' WHERE id = 3");
      // Consumers fail on every write: the cycle waits for them and does not advance the slot.
      await run.waitFor(/"event":"batch".*"failed":1/);
      expect(await confirmedLsn()).toBe(before);
      run.child.kill("SIGTERM");
      await run.waitFor(/"event":"stopping"/);
      // Graceful stop waits for the undelivered keys: still retrying, still not advanced.
      await run.waitFor(/"event":"batch".*"failed":1/, { from: run.stderr().length });
      expect(await confirmedLsn()).toBe(before);
      run.child.kill("SIGTERM");
      const result = await run.exited;
      expect(result.code).toBe(143);
      expect(result.stderr).toMatch(
        /slotsync: stopped before finishing; changes not yet indexed are read from the slot again/,
      );
      expect(await confirmedLsn()).toBe(before);
      expect((await indexed("3"))?.book_title).not.toBe("The BFG");
    } finally {
      await proxy.close();
    }
    // The change was still in the slot: the next run delivers it.
    const again = await runCli(["run", "--once"], { env: env() });
    expect(again.code).toBe(0);
    expect((await indexed("3"))?.book_title).toBe("The BFG");
    expect(await indexed("3")).toEqual(await rendered("3"));
  });

  it("runs until SIGTERM, then finishes its work and exits 0", async () => {
    const run = startCli(["run", "--consumers", "3"], { env: env() });
    await run.waitFor(/"event":"start".*"consumers":3/);
    await db.client.query("UPDATE book SET description = 'giant' WHERE id = 3");
    await waitForDocument("3", (s) => s?.description === "giant");
    run.child.kill("SIGTERM");
    const result = await run.exited;
    expect(result.code).toBe(0);
    const events = logEvents(result.stderr);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["stopping", "stop"]));
    expect(events.filter((e) => e.level === "error")).toEqual([]);
  });
});

describe("slotsync run with SQS and Upstash", () => {
  it("--once sends keys through SQS, consumes them, and checkpoints in Upstash", async () => {
    queues = await createTestQueues("cli-run");
    const { endpoint, region } = getServices().elasticmq;
    const upstash = getServices().upstash;
    await db.client.query("UPDATE book SET title = 'Kafka on the Beach' WHERE id = 2");
    const r = await runCli(["run", "--once", "--quiet"], {
      env: env({
        SQS_QUEUE_URL: queues.queueUrl,
        SQS_DLQ_URL: queues.dlqUrl,
        SQS_ENDPOINT: endpoint,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "x",
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
      }),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await indexed("2"))?.book_title).toBe("Kafka on the Beach");
    expect(await indexed("2")).toEqual(await rendered("2"));
    const attrs = await queues.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(attrs.Attributes).toMatchObject({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
    });
    const store = new UpstashCheckpointStore({ url: upstash.url, token: upstash.token });
    try {
      const checkpoint = await store.readCheckpoint(slot);
      const { rows } = await db.client.query<{ lsn: string }>(
        "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
        [slot],
      );
      expect(checkpoint?.lsn).toBe(rows[0]?.lsn);
    } finally {
      await store.reset(slot);
    }
  });
});
