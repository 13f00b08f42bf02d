import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { loadConfig } from "../../lib/config";
import { createDocumentBuilder } from "../../lib/document";
import {
  type DriftFinding,
  DriftGuard,
  openWatchedSchema,
  readCurrentDrift,
  schemaHash,
} from "../../lib/drift";
import { checkWal, createNotifiers, monitorSettingsFromEnv } from "../../lib/monitor";
import { DEFAULT_LOOP_OPTIONS, runPollerLoop } from "../../lib/poller";
import { recordFromSqsMessage, type SqsBatchResponse, type SqsEvent } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import { CheckpointPollerState } from "../../lib/runtime";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { PgSlotReader } from "../../lib/slot";
import { compareIndexWithDatabase } from "../support/consistency";
import { type HttpListener, startHttpListener } from "../support/http-listener";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../support/lambda-env";
import { createTestDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

// Schema drift end to end on the real services, through the Lambda handlers wired from the
// environment: a column the schema uses is dropped while changes keep coming; the poller and the
// consumer stop and say so, the monitor raises the `schema drift` alert, nothing is lost; then the
// documented recovery (fix schema.json, deploy, re-index) makes the index equal to what the
// DocumentBuilder renders for every root.

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_drift_${suffix}`;
const index = `drift_${suffix}`;
const saved = { ...process.env };
let db: TestDatabase;
let queues: TestQueues;
let sink: SearchSink;
let webhook: HttpListener;
let dir: string;
let store: UpstashCheckpointStore;

const context = (ms: number) => ({
  awsRequestId: `req-${randomBytes(3).toString("hex")}`,
  getRemainingTimeInMillis: () => ms,
});

const SQL = `
  CREATE TABLE publisher (id int PRIMARY KEY, name text NOT NULL);
  CREATE TABLE book (
    id int PRIMARY KEY, title text NOT NULL, subtitle text, price numeric(10, 2),
    publisher_id int REFERENCES publisher (id)
  );
  CREATE TABLE review (id int PRIMARY KEY, book_id int NOT NULL REFERENCES book (id) ON DELETE CASCADE, stars int NOT NULL);
  ALTER TABLE review REPLICA IDENTITY FULL;
  INSERT INTO publisher SELECT g, 'Publisher ' || g FROM generate_series(1, 3) g;
  INSERT INTO book SELECT g, 'Title ' || g, 'Subtitle ' || g, g + 0.5, 1 + g % 3 FROM generate_series(1, 40) g;
  INSERT INTO review SELECT g, 1 + g % 40, 1 + g % 5 FROM generate_series(1, 80) g;`;

/** The schema: book with its publisher and reviews; `subtitle` only in the first version. */
function schema(database: string, withSubtitle: boolean): unknown[] {
  return [
    {
      database,
      index,
      nodes: {
        table: "book",
        columns: ["id", "title", ...(withSubtitle ? ["subtitle"] : []), "price"],
        children: [
          {
            table: "publisher",
            columns: ["id", "name"],
            relationship: {
              variant: "object",
              type: "one_to_one",
              foreign_key: { child: ["id"], parent: ["publisher_id"] },
            },
          },
          {
            table: "review",
            label: "reviews",
            columns: ["id", "stars"],
            relationship: { variant: "object", type: "one_to_many" },
          },
        ],
      },
    },
  ];
}

async function deploySchema(withSubtitle: boolean): Promise<void> {
  await writeFile(join(dir, "schema.json"), JSON.stringify(schema(db.name, withSubtitle)));
}

/** A deployment: fresh Lambda modules (cold starts) reading the schema file as it is now. */
async function deploy() {
  vi.resetModules();
  return {
    poller: (await import("../../lambdas/poller")).handler,
    consumer: (await import("../../lambdas/consumer")).handler,
    bootstrap: (await import("../../lambdas/bootstrap")).handler,
  };
}
type Lambdas = Awaited<ReturnType<typeof deploy>>;

async function receive(visibilityTimeout: number): Promise<Message[]> {
  const res = await queues.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queues.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: visibilityTimeout,
      AttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return res.Messages ?? [];
}

/** The event source mapping: a batch to the consumer, the records it did not report failed deleted. */
async function deliver(lambdas: Lambdas, messages: Message[]): Promise<SqsBatchResponse> {
  const event: SqsEvent = { Records: messages.map((m) => recordFromSqsMessage(m)) };
  const response = await lambdas.consumer(event, context(30_000));
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
  if (done.length > 0) {
    await queues.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queues.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  return response;
}

/** Delivers until the queue has had nothing visible twice in a row (or `until` holds). */
async function drain(lambdas: Lambdas, until?: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 90_000;
  let idle = 0;
  while (Date.now() < deadline) {
    if (until && (await until())) return;
    const messages = await receive(30);
    if (messages.length === 0) {
      if (!until && ++idle >= 2) return;
      continue;
    }
    idle = 0;
    const response = await deliver(lambdas, messages);
    expect(response.batchItemFailures).toEqual([]);
  }
  throw new Error("the queue did not drain in time");
}

async function confirmedFlush(): Promise<string> {
  const { rows } = await db.client.query<{ lsn: string }>(
    "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  return rows[0]?.lsn ?? "";
}

async function visibleMessages(): Promise<number> {
  const res = await queues.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queues.queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? -1);
}

/** The monitor's check, on this suite's slot only (others' alert state is left alone). */
async function monitor() {
  const config = loadConfig(process.env, { pg: true, upstash: true });
  const settings = monitorSettingsFromEnv(process.env, config.alerts);
  return checkWal(
    { db: db.client, store, notifiers: createNotifiers(settings) },
    { schemaSlot: slot, include: (name) => name === slot },
  );
}

type DriftAlertBody = {
  type: string;
  kind: string;
  level: string;
  message: string;
  recovery: string;
  drift: { findings: DriftFinding[] };
};

function driftAlerts(): DriftAlertBody[] {
  return webhook.requests
    .map((r) => r.json<DriftAlertBody>())
    .filter((b) => b.type === "slotsync.schema-drift");
}

beforeAll(async () => {
  db = await createTestDatabase("drift");
  await db.client.query(SQL);
  queues = await createTestQueues("drift", 2);
  webhook = await startHttpListener();
  dir = await mkdtemp(join(tmpdir(), "slotsync-drift-"));
  await deploySchema(true);
  const s = getServices();
  Object.assign(
    process.env,
    lambdaEnvironment(
      { pgUrl: db.url, schema: join(dir, "schema.json"), slot, queues },
      {
        POLL_INTERVAL_SECONDS: "0.1",
        POLLER_MODE: "latency",
        POLLER_SAFETY_MARGIN_SECONDS: "1",
        WRITE_TARGETS_CACHE_SECONDS: "0",
        DRIFT_CHECK_MINUTES: "0",
        DRIFT_RETRY_DELAY_MINUTES: "10",
        SQS_MAX_RECEIVE_COUNT: "2",
        ALERT_WEBHOOK_URL: `${webhook.url}/hooks/drift`,
        ALERT_WEBHOOK_FORMAT: "json",
        POWERTOOLS_METRICS_DISABLED: "true",
      },
    ),
  );
  sink = createSink(elasticsearchSinkConfig());
  store = new UpstashCheckpointStore({ url: s.upstash.url, token: s.upstash.token });
});

afterAll(async () => {
  process.env = saved;
  for (const name of (await sink?.getAliasTargets(index).catch(() => [])) ?? []) {
    await sink.deleteIndex(name).catch(() => undefined);
  }
  await sink?.close();
  await store?.reset(slot).catch(() => undefined);
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
  await webhook?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("schema drift, end to end", () => {
  it("a dropped column stops the sync with an alert, loses nothing, and the documented recovery converges", {
    timeout: 300_000,
  }, async () => {
    let lambdas = await deploy();

    // Bootstrap and a live change, as in production.
    const started = await lambdas.bootstrap({ action: "start" }, context(120_000));
    expect(started).toMatchObject({ slotCreated: true });
    await drain(lambdas, async () => (await sink.getAliasTargets(index)).length === 1);
    await db.client.query("UPDATE book SET title = 'Live' WHERE id = 1");
    expect(await lambdas.poller({}, context(2500))).toMatchObject({ outcome: "completed" });
    await drain(lambdas);

    // A change handed on just before the column goes: its message is in flight.
    await db.client.query("UPDATE book SET subtitle = 'In flight' WHERE id = 2");
    expect(await lambdas.poller({}, context(2500))).toMatchObject({ outcome: "completed" });
    await db.client.query("ALTER TABLE book DROP COLUMN subtitle");
    // Changes that arrive meanwhile: they must all reach the index in the end.
    await db.client.query(`
      INSERT INTO book (id, title, price, publisher_id) VALUES (1001, 'Written during drift', 9.99, 2);
      UPDATE book SET title = 'Meanwhile' WHERE id = 5;
      DELETE FROM book WHERE id = 6;
      INSERT INTO review VALUES (1001, 7, 5);
      UPDATE publisher SET name = 'Renamed meanwhile' WHERE id = 1;`);
    const slotBefore = await confirmedFlush();

    // The consumer: the build fails, the catalog check names the drift, the record waits with a
    // long back-off (it does not come back although this receive made it invisible for 1 s only).
    const inFlight = await receive(1);
    expect(inFlight).toHaveLength(1);
    const held = await deliver(lambdas, inFlight);
    expect(held.batchItemFailures).toEqual([{ itemIdentifier: inFlight[0]?.MessageId }]);
    const recorded = await readCurrentDrift(store, slot);
    expect(recorded?.drift).toMatchObject({
      source: "consumer",
      findings: [{ index, table: "public.book", column: "subtitle", kind: "column-missing" }],
    });
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) expect(await receive(1)).toEqual([]);

    // The poller (warm): stops cleanly, hands nothing on, leaves the slot where it is.
    const stopped = await lambdas.poller({}, context(2500));
    expect(stopped).toMatchObject({
      outcome: "schema-drift",
      slot,
      findings: [{ index, table: "public.book", column: "subtitle", kind: "column-missing" }],
      fix: expect.stringContaining("slotsync bootstrap --reindex"),
    });
    expect(await confirmedFlush()).toBe(slotBefore);
    expect(await visibleMessages()).toBe(0);

    // A cold start of the same deployment: the schema no longer resolves; the stored fingerprint
    // names the same drift, and the poller again stops cleanly (no error, so no Lambda retry).
    lambdas = await deploy();
    expect(await lambdas.poller({}, context(2500))).toMatchObject({
      outcome: "schema-drift",
      findings: [{ column: "subtitle", kind: "column-missing" }],
    });
    expect(await confirmedFlush()).toBe(slotBefore);

    // The in-flight record's last delivery (SQS_MAX_RECEIVE_COUNT=2): to the DLQ with the reason.
    await queues.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queues.queueUrl,
        ReceiptHandle: inFlight[0]?.ReceiptHandle ?? "",
        VisibilityTimeout: 0,
      }),
    );
    const last = await receive(30);
    expect(last.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(["2"]);
    expect((await deliver(lambdas, last)).batchItemFailures).toEqual([]);
    const letters = await queues.drainDlq({ count: 1, timeoutMs: 10_000 });
    expect(letters).toHaveLength(1);
    expect(letters[0]?.attributes["slotsync-reason"]).toMatch(
      /^schema-drift: .*public\.book\.subtitle is missing/,
    );

    // The monitor raises the schema drift alert: critical, naming index, table, column and the fix.
    const raised = await monitor();
    expect(raised.drift?.findings).toHaveLength(1);
    await webhook.waitForRequests(1, 10_000);
    const [alert] = driftAlerts();
    expect(alert).toMatchObject({
      kind: "raised",
      level: "critical",
      message: expect.stringContaining(`index ${index}: column public.book.subtitle is missing`),
      recovery: expect.stringMatching(/schema\.json.*slotsync bootstrap --reindex/),
      drift: { findings: [{ index, table: "public.book", column: "subtitle", kind: "column-missing" }] },
    });
    expect((await monitor()).alerts).toEqual([]);

    // The documented recovery: update schema.json and deploy it ...
    await deploySchema(false);
    lambdas = await deploy();
    const resumed = await lambdas.poller({}, context(2500));
    expect(resumed).toMatchObject({ outcome: "completed" });
    expect(Number(resumed.keys)).toBeGreaterThan(0);
    expect(await confirmedFlush()).not.toBe(slotBefore);
    await drain(lambdas);
    expect((await readCurrentDrift(store, slot))?.drift).toBeNull();
    const recovered = await monitor();
    expect(recovered.alerts).toMatchObject([{ topic: "schema-drift", kind: "recovered" }]);
    expect(driftAlerts().map((a) => a.kind)).toEqual(["raised", "recovered"]);

    // ... the changes made meanwhile are in; documents nobody changed still carry the old column,
    const resolved = await resolveSchema(parseSchema(schema(db.name, false)), db.client);
    const [resolvedIndex] = resolved.indices;
    if (!resolvedIndex) throw new Error("no index");
    const builder = await createDocumentBuilder(resolvedIndex);
    await sink.refresh(index);
    const [written, deleted] = await sink.getDocuments(index, ["1001", "6"]);
    expect(written?.source).toMatchObject({ title: "Written during drift" });
    expect(deleted).toBeUndefined();
    const stale = await compareIndexWithDatabase({ sink, index, builder, client: db.client });
    expect(stale.differentCount).toBeGreaterThan(0);

    // ... then re-index with no downtime.
    const reindex = await lambdas.bootstrap({ action: "start", reindex: true }, context(120_000));
    const copy = (reindex.indices as { concrete?: string }[])[0]?.concrete;
    expect(copy).toBeDefined();
    await drain(lambdas, async () => (await sink.getAliasTargets(index)).includes(copy ?? ""));
    expect(await lambdas.poller({}, context(2500))).toMatchObject({ outcome: "completed" });
    await drain(lambdas);
    const report = await compareIndexWithDatabase({ sink, index, builder, client: db.client });
    expect(report).toMatchObject({ missing: [], extra: [], different: [], differentCount: 0 });
    expect(report.compared).toBe(40);
  });
});

// Each kind of drift, detected and named on the real catalog: the guard the Lambdas use, the real
// poller loop (its failure path for a renamed join column), the Upstash store.
describe("kinds of drift", () => {
  let kinds: TestDatabase;
  const kindSlot = `slotsync_driftk_${suffix}`;
  let spec: ReturnType<typeof parseSchema>;

  beforeAll(async () => {
    kinds = await createTestDatabase("drift_kinds");
    await kinds.client.query(SQL);
    await kinds.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [kindSlot]);
    spec = parseSchema(schema(kinds.name, true));
  });

  afterAll(async () => {
    await store?.reset(kindSlot).catch(() => undefined);
    await kinds?.client.query("SELECT pg_drop_replication_slot($1)", [kindSlot]).catch(() => undefined);
    await kinds?.drop();
  });

  async function guard(intervalMs = 0) {
    const resolved = await resolveSchema(spec, kinds.client);
    const opened = await DriftGuard.open(kinds.client, resolved, schemaHash(spec), {
      store,
      slot: kindSlot,
      source: "test",
      intervalMs,
    });
    return { resolved, guard: opened };
  }

  async function findings(g: DriftGuard): Promise<readonly DriftFinding[]> {
    const verdict = await g.check(kinds.client);
    return verdict.status === "ok" ? [] : verdict.error.findings;
  }

  it("a renamed join column: the poller's resolve query fails, the check names the column and its new name", async () => {
    const { resolved, guard: g } = await guard(60 * 60_000);
    expect(await findings(g)).toEqual([]); // the periodic check is now not due for an hour
    await kinds.client.query("UPDATE publisher SET name = 'Changed' WHERE id = 2");
    await kinds.client.query("ALTER TABLE book RENAME COLUMN publisher_id TO publisher_ref");
    try {
      const before = await slotLsn(kindSlot);
      const published: unknown[] = [];
      const summary = await runPollerLoop(
        {
          db: kinds.client,
          reader: new PgSlotReader(kinds.client, kindSlot),
          resolver: new ChangeResolver(resolved),
          publisher: { publish: async (h) => void published.push(...h) },
          state: new CheckpointPollerState(store),
          drift: g,
        },
        { ...DEFAULT_LOOP_OPTIONS, slot: kindSlot, holder: "test", safetyMarginMs: 0, pollIntervalMs: 50 },
        Date.now() + 10_000,
      );
      expect(summary.outcome).toBe("schema-drift");
      expect(summary.drift?.error.message).toContain(
        "column public.book.publisher_id is missing (renamed to publisher_ref)",
      );
      expect(published).toEqual([]);
      expect(await slotLsn(kindSlot)).toBe(before);
      const recorded = await readCurrentDrift(store, kindSlot);
      expect(recorded?.drift?.findings).toMatchObject([
        {
          index,
          table: "public.book",
          column: "publisher_id",
          kind: "column-missing",
          now: "renamed to publisher_ref",
        },
      ]);
    } finally {
      await kinds.client.query("ALTER TABLE book RENAME COLUMN publisher_ref TO publisher_id");
    }
    expect(await findings(g)).toEqual([]);
    expect((await readCurrentDrift(store, kindSlot))?.drift).toBeNull();
  });

  it("a type change is named with both types, also for a process that resolved after it", async () => {
    await guard();
    await kinds.client.query("ALTER TABLE book ALTER COLUMN price TYPE text");
    try {
      const { guard: later } = await guard();
      expect(await findings(later)).toEqual([
        expect.objectContaining({
          index,
          table: "public.book",
          column: "price",
          kind: "type-changed",
          was: "numeric",
          now: "text",
        }),
      ]);
    } finally {
      await kinds.client.query(
        "ALTER TABLE book ALTER COLUMN price TYPE numeric(10, 2) USING price::numeric",
      );
    }
  });

  it("a dropped table, and a renamed one by its new name", async () => {
    const { guard: g } = await guard();
    await kinds.client.query("ALTER TABLE publisher RENAME TO publishers");
    expect(await findings(g)).toEqual([
      expect.objectContaining({
        index,
        table: "public.publisher",
        kind: "table-missing",
        now: "renamed to public.publishers",
      }),
    ]);
    await kinds.client.query("ALTER TABLE publishers RENAME TO publisher");
    expect(await findings(g)).toEqual([]);
    await kinds.client.query("DROP TABLE review");
    const dropped = await findings(g);
    expect(dropped).toEqual([
      expect.objectContaining({
        index,
        table: "public.review",
        kind: "table-missing",
        fix: expect.any(String),
      }),
    ]);
    expect(dropped[0]?.now).toBeUndefined();
    // A cold start can no longer resolve the schema: the stored fingerprint names the same drift.
    const atStart = await openWatchedSchema({
      db: kinds.client,
      spec,
      store,
      slotFor: () => kindSlot,
      source: "test",
      intervalMs: 0,
    });
    expect("drift" in atStart && atStart.drift.findings).toEqual(dropped);
  });

  async function slotLsn(name: string): Promise<string> {
    const { rows } = await kinds.client.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
      [name],
    );
    return rows[0]?.lsn ?? "";
  }
});
