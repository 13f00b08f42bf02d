import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as consumer } from "../../lambdas/consumer";
import {
  DEAD_LETTER_ATTRIBUTES,
  decodeMessage,
  encodeMessage,
  recordFromSqsMessage,
  SqsDeadLetterPublisher,
} from "../../lib/queue";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { lines, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../support/lambda-env";
import { createFixtureDatabase, schemaFixtureDir, type TestDatabase } from "../support/pg";
import { createTestQueues, type TestQueues } from "../support/sqs";

// One bad key stays one bad key, through the consumer Lambda's handler (wired from the environment
// as in AWS; only the Lambda runtime is not real): a plugin throwing for one key among 200 costs
// that key alone, which goes to the DLQ with its reason; `slotsync redrive` brings it back after
// the fix, and the index then equals `slotsync render`.

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_poison_${suffix}`;
const index = `poison_lambda_${suffix}`;
const POISONED = 137;
let db: TestDatabase;
let queues: TestQueues;
let sink: SearchSink;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
const saved = { ...process.env };
let env: Record<string, string>;

const context = (ms: number) => ({
  awsRequestId: `req-${randomBytes(3).toString("hex")}`,
  getRemainingTimeInMillis: () => ms,
});

async function lsnNow(): Promise<bigint> {
  const { rows } = await db.client.query<{ n: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS n");
  return BigInt(rows[0]?.n ?? "0");
}

/** Receives what the queue holds (until an empty receive) and hands it to the consumer handler. */
async function consumeQueue(): Promise<number> {
  let handled = 0;
  for (;;) {
    const res = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return handled;
    const response = await consumer(
      { Records: messages.map((m) => recordFromSqsMessage(m)) },
      context(30_000),
    );
    expect(response.batchItemFailures).toEqual([]);
    await queues.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queues.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
    handled += messages.length;
  }
}

const dlq = () => new SqsDeadLetterPublisher({ client: queues.client, queueUrl: queues.dlqUrl });

/** Every document of the index, by id. */
async function indexed(): Promise<Map<string, Record<string, unknown>>> {
  await sink.refresh(index);
  const out = new Map<string, Record<string, unknown>>();
  for await (const doc of sink.scan(index)) out.set(doc.id, doc.source);
  return out;
}

beforeAll(async () => {
  db = await createFixtureDatabase("poison");
  queues = await createTestQueues("poison");
  scratch = await scratchDir("poison-lambda");
  env = lambdaEnvironment(
    { pgUrl: db.url, schema: await writeSchemaCopy(scratch.dir, "poison", () => index), slot, queues },
    {
      PLUGINS_DIR: join(schemaFixtureDir("poison"), "plugins"),
      DATABASE: db.name,
    },
  );
  Object.assign(process.env, env);
  sink = createSink(elasticsearchSinkConfig());
  await sink.createIndex(index, { settings: { ...TOMBSTONE_INDEX_SETTINGS } });
});

afterAll(async () => {
  process.env = saved;
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.drop();
  await queues?.remove();
  await scratch?.remove();
});

describe("poison isolation in the consumer Lambda", () => {
  it("a plugin throwing for one key among 200 in one record: 199 written, that key alone dead-lettered with its reason", async () => {
    await db.client.query("UPDATE item SET title = 'poison ' || id WHERE id = $1", [POISONED]);
    const lsn = await lsnNow();
    const body = encodeMessage({
      kind: "keys",
      index,
      keys: Array.from({ length: 200 }, (_, i) => [String(i + 1)]),
      lsn,
      sentAt: new Date().toISOString(),
    });
    const response = await consumer(
      { Records: [{ messageId: "one-record", body, attributes: { ApproximateReceiveCount: "1" } }] },
      context(30_000),
    );
    // The record is settled: its healthy keys are written, its bad key is in the DLQ.
    expect(response.batchItemFailures).toEqual([]);
    const docs = await indexed();
    expect(docs.size).toBe(199);
    expect(docs.has(String(POISONED))).toBe(false);
    expect(docs.get("1")).toEqual({ id: 1, title: "item 1" });

    const letters = await queues.drainDlq({ count: 1, timeoutMs: 5000 });
    expect(letters).toHaveLength(1);
    const letter = letters[0] as { body: string; attributes: Record<string, string> };
    expect(letter.attributes[DEAD_LETTER_ATTRIBUTES.reason]).toMatch(
      new RegExp(
        `^build-failed: .*plugin "Poison" failed on document ${POISONED}: cannot transform title "poison ${POISONED}"`,
      ),
    );
    expect(letter.attributes[DEAD_LETTER_ATTRIBUTES.messageId]).toBe("one-record");
    expect(decodeMessage(letter.body)).toMatchObject({
      kind: "keys",
      index,
      keys: [[String(POISONED)]],
      lsn,
    });
    // Back into the DLQ as it was, for the redrive test.
    await dlq().send([{ body: letter.body, reason: letter.attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? "" }]);
  });

  it("redrive after the fix: --dry-run moves nothing, --reason filters, and the index then equals slotsync render", async () => {
    // A letter of another kind stays where it is when the reason filter does not match it.
    await dlq().send([{ body: '{"v":2}', reason: "unknown message version 2" }]);
    const dry = await runCli(["redrive", "--dry-run"], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would move 2 of 2 dead letters back to the queue\n/);
    expect(dry.stdout).toMatch(/ {2}1\tbuild-failed\n/);

    await db.client.query("UPDATE item SET title = 'item ' || id || ' mended' WHERE id = $1", [POISONED]);
    const moved = await runCli(["redrive", "--reason", "BUILD-FAILED"], { env });
    expect(moved.code).toBe(0);
    expect(moved.stdout).toBe(
      'moved 1 of 2 dead letters back to the queue (reason contains "BUILD-FAILED")\n  1\tbuild-failed\n1 left in the DLQ: their reason did not match\n',
    );
    expect(await consumeQueue()).toBe(1);

    const rendered = await runCli(["render"], { env });
    expect(rendered.code).toBe(0);
    const expected = new Map(
      lines(rendered.stdout).map((l) => {
        const d = JSON.parse(l) as { _id: string; _source: Record<string, unknown> };
        return [d._id, d._source];
      }),
    );
    expect(expected.size).toBe(200);
    expect(await indexed()).toEqual(expected);
    // The letter whose reason did not match is still in the DLQ.
    const left = await queues.drainDlq({ count: 1, timeoutMs: 3000 });
    expect(left.map((l) => l.body)).toEqual(['{"v":2}']);
  });
});
