import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getServices } from "../support/services";

// SQS (ElasticMQ, JSON protocol) through @aws-sdk/client-sqs: batch send/receive/delete, message
// attributes, and DLQ redrive after maxReceiveCount receives. Waiting is long polling with a deadline.

const SUFFIX = randomBytes(4).toString("hex");
const DEADLINE_MS = 30_000;

let sqs: SQSClient;
const queueUrls: string[] = [];

async function createQueue(
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`no QueueUrl for ${name}`);
  queueUrls.push(url);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${name}`);
  return { url, arn };
}

/** Receives until `count` messages arrived or the deadline passes; deletes nothing. */
async function receiveAtLeast(url: string, count: number, extra: { MessageAttributeNames?: string[] } = {}) {
  const got: Message[] = [];
  const deadline = Date.now() + DEADLINE_MS;
  while (got.length < count && Date.now() < deadline) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, ...extra }),
    );
    got.push(...(res.Messages ?? []));
  }
  return got;
}

async function counts(url: string) {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(res.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

beforeAll(() => {
  const { endpoint, region } = getServices().elasticmq;
  sqs = new SQSClient({ endpoint, region, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
});

afterAll(async () => {
  if (!sqs) return;
  for (const url of queueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  sqs.destroy();
});

describe("SQS (ElasticMQ) through @aws-sdk/client-sqs", () => {
  it("sends a batch of 10, receives all of them, deletes them, and the queue is empty", async () => {
    const { url } = await createQueue(`slotsync-svc-batch-${SUFFIX}`);
    const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ v: 1, key: `k${i}` }));
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.map((body, i) => ({ Id: `m${i}`, MessageBody: body })),
      }),
    );
    expect(sent.Failed ?? []).toEqual([]);
    expect(sent.Successful?.map((s) => s.Id).sort()).toEqual(bodies.map((_, i) => `m${i}`).sort());

    const got = await receiveAtLeast(url, 10);
    expect(got.map((m) => m.Body).sort()).toEqual([...bodies].sort());
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 10 });

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    expect(deleted.Failed ?? []).toEqual([]);
    expect(deleted.Successful).toHaveLength(10);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("round-trips string, number and binary message attributes", async () => {
    const { url } = await createQueue(`slotsync-svc-attrs-${SUFFIX}`);
    const binary = Uint8Array.from([0, 1, 2, 254, 255]);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "with attributes",
        MessageAttributes: {
          reason: { DataType: "String", StringValue: "unknown message version: zaż" },
          lsn: { DataType: "Number", StringValue: "23456789012" },
          raw: { DataType: "Binary", BinaryValue: binary },
        },
      }),
    );
    const [msg] = await receiveAtLeast(url, 1, { MessageAttributeNames: ["All"] });
    expect(msg?.Body).toBe("with attributes");
    const attrs = msg?.MessageAttributes ?? {};
    expect(attrs.reason).toMatchObject({ DataType: "String", StringValue: "unknown message version: zaż" });
    expect(attrs.lsn).toMatchObject({ DataType: "Number", StringValue: "23456789012" });
    expect(attrs.raw?.DataType).toBe("Binary");
    expect(Array.from(attrs.raw?.BinaryValue ?? [])).toEqual(Array.from(binary));
  });

  it("moves a message that is received but never deleted to the DLQ after maxReceiveCount receives", async () => {
    const maxReceiveCount = 2;
    const dlq = await createQueue(`slotsync-svc-dlq-${SUFFIX}`);
    const main = await createQueue(`slotsync-svc-main-${SUFFIX}`, {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: String(maxReceiveCount),
      }),
    });
    const body = JSON.stringify({ v: 99, poison: SUFFIX });
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: main.url, MessageBody: body }));

    // Receive without deleting, with a 1 s visibility timeout, until the message shows up in the DLQ.
    let receivedFromMain = 0;
    let inDlq: Message | undefined;
    const deadline = Date.now() + DEADLINE_MS;
    while (!inDlq && Date.now() < deadline) {
      const res = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: main.url, VisibilityTimeout: 1, WaitTimeSeconds: 1 }),
      );
      for (const m of res.Messages ?? []) {
        expect(m.MessageId).toBe(MessageId);
        receivedFromMain++;
      }
      const fromDlq = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq.url, AttributeNames: ["All"], WaitTimeSeconds: 0 }),
      );
      inDlq = fromDlq.Messages?.[0];
    }
    expect(inDlq, "message never reached the DLQ").toBeDefined();
    expect(inDlq?.Body).toBe(body);
    expect(inDlq?.MessageId).toBe(MessageId);
    expect(receivedFromMain).toBe(maxReceiveCount);
    expect((await counts(main.url)).visible).toBe(0);
  });
});
