import {
  ReceiveMessageCommand,
  type SendMessageBatchCommand as SendBatch,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConsumerLoop } from "../../lib/consumer";
import { type ReceivedMessage, SqsConsumerQueue } from "../../lib/queue";
import { createTestQueues, type TestQueues } from "../support/sqs";

let queues: TestQueues;

beforeAll(async () => {
  queues = await createTestQueues("consumer-queue", 10);
});

afterAll(async () => {
  await queues?.remove();
});

const batchOf = (bodies: string[], attribute?: string): SendBatch =>
  new SendMessageBatchCommand({
    QueueUrl: queues.queueUrl,
    Entries: bodies.map((body, i) => ({
      Id: String(i),
      MessageBody: body,
      ...(attribute ? { MessageAttributes: { origin: { DataType: "String", StringValue: attribute } } } : {}),
    })),
  });

describe("the consumer loop over SQS (SqsConsumerQueue on ElasticMQ)", () => {
  it("deletes what succeeded and leaves a failed message to the visibility timeout, which delivers it again", async () => {
    await queues.client.send(batchOf(["a", "b", "c"], "test"));
    const queue = new SqsConsumerQueue(queues.client, {
      queueUrl: queues.queueUrl,
      waitSeconds: 1,
      visibilityTimeoutSeconds: 1,
    });
    const seen: { body: string; receiveCount: number; origin: string | undefined }[] = [];
    const done = new Set<string>();
    let failedOnce = false;
    const stats = await runConsumerLoop(
      queue,
      async (event) => {
        const failures: { itemIdentifier: string }[] = [];
        for (const r of event.Records) {
          seen.push({
            body: r.body,
            receiveCount: Number(r.attributes?.ApproximateReceiveCount),
            origin: r.messageAttributes?.origin?.stringValue,
          });
          if (r.body === "b" && !failedOnce) {
            failedOnce = true;
            failures.push({ itemIdentifier: r.messageId });
          } else done.add(r.body);
        }
        return { response: { batchItemFailures: failures } };
      },
      // SQS cannot tell what is pending: stop once every body was handled.
      { concurrency: 2, stopWhenIdle: () => done.size === 3 },
    );
    expect([...done].sort()).toEqual(["a", "b", "c"]);
    expect(seen.filter((s) => s.body === "b").map((s) => s.receiveCount)).toEqual([1, 2]);
    expect(seen.every((s) => s.origin === "test")).toBe(true);
    expect(stats).toMatchObject({ records: 4, failed: 1 });
    // Everything handled was deleted: nothing comes again, even after the visibility timeout.
    expect(await queues.drain({ timeoutMs: 1500 })).toEqual([]);
  });

  it("gathers one batch over several receives within the batching window", async () => {
    await queues.client.send(batchOf(["first"]));
    // The two others are sent once the first receive has returned: only a second receive, within
    // the window, can add them to the batch.
    let receives = 0;
    const client = {
      send: async (command: Parameters<SQSClient["send"]>[0], options?: { abortSignal?: AbortSignal }) => {
        const result = await queues.client.send(command as ReceiveMessageCommand, options ?? {});
        if (command instanceof ReceiveMessageCommand && ++receives === 1) {
          await queues.client.send(batchOf(["second", "third"]));
        }
        return result;
      },
    } as Pick<SQSClient, "send">;
    const queue = new SqsConsumerQueue(client, {
      queueUrl: queues.queueUrl,
      waitSeconds: 1,
      batchWindowMs: 3000,
    });
    const batch: ReceivedMessage[] = await queue.receive({ maxMessages: 3 });
    expect(batch.map((m) => m.body).sort()).toEqual(["first", "second", "third"]);
    expect(receives).toBeGreaterThanOrEqual(2);
    await queue.acknowledge(batch);
    expect(await queues.drain({ timeoutMs: 1000 })).toEqual([]);
  });
});
