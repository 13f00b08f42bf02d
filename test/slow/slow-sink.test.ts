import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { handler as poller } from "../../lambdas/poller";
import { recordFromSqsMessage, type SqsBatchResponse, type SqsEvent } from "../../lib/queue";
import { createBuilders } from "../../lib/runtime";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { compareIndexWithDatabase } from "../support/consistency";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../support/lambda-env";
import { applySchemaFixture, createTestDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

// Done-when of the slow-sink work: through the fault proxy adding 50 ms per document to every
// `_bulk` (a 500-document request takes 25 s), the consumer Lambda handler, at the stack's default
// timeout (60 s) and concurrency (5 containers, each its own module instance as Lambda would have
// it), syncs 20,000 changes with no invocation running out of time, nothing dead-lettered and the
// index equal to what `slotsync render` builds. The Lambda runtime and the SQS event source are the
// only parts played here: receive up to 10 messages, call the handler with the time left, delete
// what it did not report as failed.

const CHANGES = 20_000;
const LAMBDA_TIMEOUT_MS = 60_000; // DEFAULT_CONSUMER.timeout
const CONTAINERS = 5; // DEFAULT_CONSUMER.maxConcurrency
const PER_DOC_MS = 50;
const VISIBILITY_SECONDS = 360; // the stack's queue: 6 x the consumer timeout

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_slow_${suffix}`;
const index = `slow_items_${suffix}`;
let db: TestDatabase;
let queues: TestQueues;
let sink: SearchSink;
let proxy: FaultProxy;
let schemaDir: string;
const saved = { ...process.env };

type Handler = (
  event: SqsEvent,
  context: { awsRequestId: string; getRemainingTimeInMillis(): number },
) => Promise<SqsBatchResponse>;

beforeAll(async () => {
  db = await createTestDatabase("slow");
  await applySchemaFixture(db.client, "items");
  // 20,000 root rows, each changed once after the slot exists.
  await db.client.query("DELETE FROM item WHERE id > $1", [CHANGES]);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  queues = await createTestQueues("slow", 3);
  // The items fixture, under an index name of this suite's own.
  const [spec] = (await readSchemaFixture("items")) as Record<string, unknown>[];
  schemaDir = mkdtempSync(join(tmpdir(), "slotsync-slow-"));
  writeFileSync(join(schemaDir, "schema.json"), JSON.stringify([{ ...spec, index }]));
  const s = getServices();
  proxy = await startFaultProxy({ target: s.elasticsearch.url, seed: 22 });
  sink = createSink(elasticsearchSinkConfig());
  await sink.createIndex(index, { settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_replicas: 0 } });
  Object.assign(
    process.env,
    lambdaEnvironment(
      { pgUrl: db.url, schema: join(schemaDir, "schema.json"), slot, queues },
      {
        DATABASE: db.name,
        // The consumers write through the fault proxy (50 ms per document).
        ELASTICSEARCH_URL: proxy.url,
        POLL_INTERVAL_SECONDS: "0.1",
        POLLER_SAFETY_MARGIN_SECONDS: "1",
        POLLER_RUN_SECONDS: "2",
        POWERTOOLS_METRICS_DISABLED: "true",
      },
    ),
  );
}, 300_000);

afterAll(async () => {
  process.env = saved;
  await proxy?.close();
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
  if (schemaDir) rmSync(schemaDir, { recursive: true, force: true });
});

/** Messages visible, in flight or delayed. */
async function queued(): Promise<number> {
  const { Attributes: a = {} } = await queues.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queues.queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

describe("a sink slowed to 50 ms per document", () => {
  it(
    "the consumer handler syncs 20,000 changes within its timeout, nothing dead-lettered, index equal to render",
    async () => {
      await db.client.query("UPDATE item SET name = name || ' (changed)'");
      let keys = 0;
      const pollUntil = Date.now() + 120_000;
      while (keys < CHANGES && Date.now() < pollUntil) {
        keys += Number(
          (await poller({}, { awsRequestId: "poll", getRemainingTimeInMillis: () => 30_000 })).keys,
        );
      }
      expect(keys).toBe(CHANGES);

      proxy.setFaults({ bulkDelayPerDocMs: PER_DOC_MS });
      const containers: Handler[] = [];
      for (let i = 0; i < CONTAINERS; i++) {
        vi.resetModules();
        const module = (await import("../../lambdas/consumer")) as typeof import("../../lambdas/consumer");
        containers.push(module.handler as Handler);
      }

      const started = Date.now();
      const report = { invocations: 0, failures: 0, overran: 0, leastRemainingMs: LAMBDA_TIMEOUT_MS };
      const giveUpAt = started + 20 * 60_000;
      const run = async (handler: Handler, n: number) => {
        for (;;) {
          if (Date.now() > giveUpAt) throw new Error("the queue did not drain in 20 minutes");
          const res = await queues.client.send(
            new ReceiveMessageCommand({
              QueueUrl: queues.queueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: VISIBILITY_SECONDS,
              AttributeNames: ["All"],
            }),
          );
          const messages = res.Messages ?? [];
          if (messages.length === 0) {
            if ((await queued()) === 0) return;
            continue;
          }
          const event: SqsEvent = { Records: messages.map((m) => recordFromSqsMessage(m)) };
          const invokedAt = Date.now();
          const remaining = () => invokedAt + LAMBDA_TIMEOUT_MS - Date.now();
          const response = await handler(event, {
            awsRequestId: `c${n}-${report.invocations}`,
            getRemainingTimeInMillis: remaining,
          });
          report.invocations++;
          report.leastRemainingMs = Math.min(report.leastRemainingMs, remaining());
          if (remaining() <= 0) report.overran++;
          const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          report.failures += failed.size;
          const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
          if (done.length > 0) {
            await queues.client.send(
              new DeleteMessageBatchCommand({
                QueueUrl: queues.queueUrl,
                Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
              }),
            );
          }
          // A failed record would wait out the 360 s visibility; it is counted (and must not
          // happen), then let through at once so a failing run still ends.
          for (const m of messages.filter((x) => failed.has(x.MessageId ?? ""))) {
            await queues.client.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: queues.queueUrl,
                ReceiptHandle: m.ReceiptHandle ?? "",
                VisibilityTimeout: 0,
              }),
            );
          }
        }
      };
      await Promise.all(containers.map((handler, n) => run(handler, n)));
      const elapsedMs = Date.now() - started;

      expect(report.overran).toBe(0);
      expect(report.failures).toBe(0);
      expect(await queues.drainDlq({ timeoutMs: 1500 })).toEqual([]);

      // The index against the documents `slotsync render` builds from the database.
      const [spec] = (await readSchemaFixture("items")) as Record<string, unknown>[];
      const resolved = await resolveSchema(parseSchema([{ ...spec, index, database: db.name }]), db.client);
      const builder = (await createBuilders(resolved, undefined)).get(index);
      if (!builder) throw new Error(`no builder for ${index}`);
      const consistency = await compareIndexWithDatabase({ sink, index, builder, client: db.client });
      expect(consistency.missing).toEqual([]);
      expect(consistency.extra).toEqual([]);
      expect(consistency.different).toEqual([]);
      expect(consistency.compared).toBe(CHANGES);
      expect(consistency.stored).toBe(CHANGES);

      const sizes = proxy.stats().bulkSizes;
      const tail = sizes.slice(-50).sort((a, b) => a - b);
      const summary = {
        changes: CHANGES,
        perDocMs: PER_DOC_MS,
        containers: CONTAINERS,
        elapsedSeconds: Math.round(elapsedMs / 100) / 10,
        documentsPerSecond: Math.round((CHANGES / elapsedMs) * 10_000) / 10,
        invocations: report.invocations,
        leastRemainingSeconds: Math.round(report.leastRemainingMs / 100) / 10,
        bulkRequests: sizes.length,
        operationsSent: proxy.stats().bulkOperations,
        firstChunk: sizes[0],
        chunkSizeMedianOfLast50: tail[Math.floor(tail.length / 2)],
      };
      // Kept for the benchmark notes; the assertions above are the test.
      writeFileSync(
        `${process.cwd()}/.slotsync/slow-sink-test.json`,
        `${JSON.stringify(summary, null, 2)}\n`,
      );
    },
    25 * 60_000,
  );
});
