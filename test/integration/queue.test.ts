import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  batchResponse,
  bodyBudget,
  DEAD_LETTER_ATTRIBUTES,
  deadLetterRecords,
  decodeMessage,
  type KeysMessage,
  packKeys,
  parseSqsEvent,
  type RootKey,
  recordFromSqsMessage,
  SQS_LIMITS,
  type SqsBatchClient,
  SqsDeadLetterPublisher,
  SqsKeyPublisher,
  utf8Bytes,
} from "../../lib/queue";
import { getServices } from "../support/services";

// Real ElasticMQ over the SQS JSON protocol. ElasticMQ accepts bodies above 256 KiB, so the size
// limits are asserted on what was sent; the only fake is the wrapper that fails chosen entries.

let sqs: SQSClient;
const queues: string[] = [];
const LSN = 2n ** 63n + 987_654_321n; // beyond 2^53: a JS number would round it

beforeAll(() => {
  const { endpoint, region } = getServices().elasticmq;
  sqs = new SQSClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
});

afterAll(async () => {
  await Promise.all(queues.map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {})));
  sqs?.destroy();
});

async function createQueue(label: string): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: `slotsync-${label}-${randomUUID()}` }));
  if (!out.QueueUrl) throw new Error("CreateQueue returned no URL");
  queues.push(out.QueueUrl);
  return out.QueueUrl;
}

/** Receives (and deletes, unless `keep`) until `count` messages arrived or the deadline passes. */
async function receiveAll(
  queueUrl: string,
  count: number,
  options: { keep?: boolean } = {},
): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (out.length < count && Date.now() < deadline) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    for (const m of res.Messages ?? []) {
      out.push(m);
      if (!options.keep)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return out;
}

/** The real client, recording every SendMessageBatch call's entry ids and payload size. */
function recording(failFirst: (id: string, attempt: number) => boolean = () => false) {
  const calls: { ids: string[]; bytes: number }[] = [];
  const attempts = new Map<string, number>();
  const client: SqsBatchClient = {
    async send(command) {
      const entries = command.input.Entries ?? [];
      calls.push({
        ids: entries.map((e) => e.Id ?? ""),
        bytes: entries.reduce((n, e) => n + utf8Bytes(e.MessageBody ?? ""), 0),
      });
      // Entries chosen to fail are not forwarded at all: SQS never saw them, as with a real Failed entry.
      const failing = entries.filter((e) => {
        const attempt = (attempts.get(e.Id ?? "") ?? 0) + 1;
        attempts.set(e.Id ?? "", attempt);
        return failFirst(e.Id ?? "", attempt);
      });
      const forward = entries.filter((e) => !failing.includes(e));
      const real: SendMessageBatchCommandOutput =
        forward.length > 0
          ? await sqs.send(new SendMessageBatchCommand({ ...command.input, Entries: forward }))
          : { Successful: [], Failed: [], $metadata: {} };
      return {
        ...real,
        Failed: [
          ...(real.Failed ?? []),
          ...failing.map((e) => ({
            Id: e.Id,
            SenderFault: false,
            Code: "InternalError",
            Message: "injected",
          })),
        ],
      };
    },
  };
  return { client, calls };
}

describe("SqsKeyPublisher against ElasticMQ", () => {
  it("delivers 25k keys intact and complete in few requests, within 256 KiB per message and call", async () => {
    const queueUrl = await createQueue("keys");
    const keys: RootKey[] = Array.from({ length: 25_000 }, (_, i) => [
      `tenant-${i % 13}`,
      i,
      `zażółć-${i}-🐄-\uFFFF`,
    ]);
    keys.push(["big-int-as-string", 1, "9223372036854775807"]);
    const messages = packKeys({ index: "book", keys, lsn: LSN, xid: 4_000_000_000 });
    const { client, calls } = recording();
    await new SqsKeyPublisher({ client, queueUrl }).publish(messages);

    expect(messages.length).toBeGreaterThan(1);
    expect(calls.length).toBeLessThanOrEqual(messages.length);
    expect(calls.length).toBeLessThan(20);
    for (const call of calls) {
      expect(call.ids.length).toBeLessThanOrEqual(10);
      expect(call.bytes).toBeLessThanOrEqual(SQS_LIMITS.maxBatchBytes);
    }

    const received = await receiveAll(queueUrl, messages.length);
    expect(received).toHaveLength(messages.length);
    const seen = new Set<string>();
    for (const m of received) {
      expect(utf8Bytes(m.Body ?? "")).toBeLessThanOrEqual(bodyBudget(SQS_LIMITS));
      const decoded = decodeMessage(m.Body ?? "") as KeysMessage;
      expect(decoded).toMatchObject({ kind: "keys", index: "book", xid: 4_000_000_000 });
      expect(decoded.lsn).toBe(LSN);
      for (const key of decoded.keys) {
        const id = JSON.stringify(key);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
    expect([...seen].sort()).toEqual(keys.map((k) => JSON.stringify(k)).sort());
    expect(received.some((m) => (m.Body ?? "").includes('"lsn":"9223372037842430129"'))).toBe(true);
  });

  it("re-sends only the entries SQS failed, and each message arrives once", async () => {
    const queueUrl = await createQueue("retry");
    const messages = Array.from({ length: 30 }, (_, i) =>
      packKeys({ index: `index-${i}`, keys: [[i]], lsn: LSN + BigInt(i) }),
    ).flat();
    const failing = new Set(["m1", "m5", "m17", "m29"]);
    const { client, calls } = recording((id, attempt) => attempt === 1 && failing.has(id));
    const publisher = new SqsKeyPublisher({ client, queueUrl, concurrency: 3, retry: { baseDelayMs: 10 } });
    await publisher.publish(messages);

    const firstAttempts = calls.filter((c) => c.ids.length === 10);
    expect(firstAttempts).toHaveLength(3);
    const resent = calls.filter((c) => c.ids.length < 10).flatMap((c) => c.ids);
    expect(resent.sort()).toEqual([...failing].sort());

    const received = await receiveAll(queueUrl, 30);
    const indices = received.map((m) => decodeMessage(m.Body ?? "").index).sort();
    expect(indices).toEqual(messages.map((m) => m.index).sort());
    // Nothing extra arrives later (no duplicate from the retry).
    const extra = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(extra.Messages ?? []).toEqual([]);
  });

  it("names a missing queue as a non-retryable QueueError", async () => {
    const queueUrl = `${await createQueue("gone")}-missing`;
    const error = await new SqsKeyPublisher({ client: sqs, queueUrl })
      .publish(packKeys({ index: "i", keys: [[1]], lsn: 1n }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "QueueError", retryable: false, notAccepted: 1, total: 1 });
    expect((error as Error).message).toMatch(/QueueDoesNotExist/);
  });
});

describe("consumer side against ElasticMQ", () => {
  it("dead-letters an unknown version with its reason and answers a partial batch response", async () => {
    const queueUrl = await createQueue("main");
    const dlqUrl = await createQueue("dlq");
    const v2 = JSON.stringify({ v: 2, kind: "keys", index: "book", keys: [[1]], lsn: "5", shard: 3 });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: v2 }));
    await new SqsKeyPublisher({ client: sqs, queueUrl }).publish([
      ...packKeys({ index: "book", keys: [["ok"]], lsn: LSN }),
      ...packKeys({ index: "book", keys: [["fails"]], lsn: LSN }),
    ]);

    const received = await receiveAll(queueUrl, 3, { keep: true });
    const records = received.map((m) =>
      recordFromSqsMessage(m, { eventSourceARN: "arn:aws:sqs:us-east-1:0:main" }),
    );
    const { valid, invalid } = parseSqsEvent({ Records: records });
    expect(invalid.map((i) => i.error.reason)).toEqual(["unknown message version 2"]);
    expect(valid).toHaveLength(2);

    // The consumer: "fails" could not be indexed and must be retried; the rest succeeded.
    const retry = valid.filter((v) => v.message.kind === "keys" && v.message.keys[0]?.[0] === "fails");
    const dead = await deadLetterRecords(
      new SqsDeadLetterPublisher({ client: sqs, queueUrl: dlqUrl }),
      invalid.map(({ record, error }) => ({ record, reason: error.reason })),
    );
    expect(dead.failed).toEqual([]);
    const response = batchResponse([...retry.map((r) => r.record), ...dead.failed]);
    const retryId = retry[0]?.record.messageId ?? "";
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: retryId }] });

    // What Lambda does with that response: delete the others, make the failures visible again.
    for (const record of records) {
      if (record.messageId === retryId) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } else {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
      }
    }

    const [again, ...more] = await receiveAll(queueUrl, 1);
    expect(more).toEqual([]);
    expect(again?.MessageId).toBe(retryId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe("2");

    const [letter] = await receiveAll(dlqUrl, 1);
    expect(letter?.Body).toBe(v2);
    const attrs = letter?.MessageAttributes ?? {};
    expect(attrs[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe("unknown message version 2");
    expect(attrs[DEAD_LETTER_ATTRIBUTES.messageId]?.StringValue).toBe(invalid[0]?.record.messageId);
    expect(attrs[DEAD_LETTER_ATTRIBUTES.receiveCount]).toMatchObject({
      DataType: "Number",
      StringValue: "1",
    });
    expect(attrs[DEAD_LETTER_ATTRIBUTES.source]?.StringValue).toBe("arn:aws:sqs:us-east-1:0:main");
  });
});
