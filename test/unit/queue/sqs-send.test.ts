import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  type KeysMessage,
  QueueError,
  type RetryEvent,
  type SqsBatchClient,
  SqsDeadLetterPublisher,
  SqsKeyPublisher,
} from "../../../lib/queue";

// A fake of the one SQS call, for the retry logic only; the integration tests use ElasticMQ.

type Entry = NonNullable<SendMessageBatchCommand["input"]["Entries"]>[number];
type Decide = (entry: Entry, call: number) => "ok" | { code: string; senderFault?: boolean };

function fakeClient(
  decide: Decide = () => "ok",
  options: { delayMs?: number; throwOn?: (call: number) => unknown } = {},
) {
  const calls: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const accepted: Entry[] = [];
  const client: SqsBatchClient = {
    async send(command) {
      const call = calls.length + 1;
      const entries = command.input.Entries ?? [];
      calls.push(entries.map((e) => e.Id ?? ""));
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, options.delayMs ?? 0));
        const thrown = options.throwOn?.(call);
        if (thrown) throw thrown;
        const output: SendMessageBatchCommandOutput = { Successful: [], Failed: [], $metadata: {} };
        for (const entry of entries) {
          const verdict = decide(entry, call);
          if (verdict === "ok") {
            accepted.push(entry);
            output.Successful?.push({ Id: entry.Id, MessageId: `id-${entry.Id}`, MD5OfMessageBody: "" });
          } else {
            output.Failed?.push({
              Id: entry.Id,
              Code: verdict.code,
              SenderFault: verdict.senderFault ?? false,
            });
          }
        }
        return output;
      } finally {
        inFlight -= 1;
      }
    },
  };
  return { client, calls, accepted, maxInFlight: () => maxInFlight };
}

const SENT = "2026-11-21T10:00:00.000Z";
const messages = (n: number): KeysMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: "keys",
    index: "book",
    keys: [[i]],
    lsn: BigInt(i),
    sentAt: SENT,
  }));

function publisher(
  client: SqsBatchClient,
  extra: Partial<ConstructorParameters<typeof SqsKeyPublisher>[0]> = {},
) {
  const delays: number[] = [];
  const retries: RetryEvent[] = [];
  const p = new SqsKeyPublisher({
    client,
    queueUrl: "http://sqs.local/000000000000/q",
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    onRetry: (e) => retries.push(e),
    ...extra,
  });
  return { p, delays, retries };
}

describe("SqsKeyPublisher retries", () => {
  it("re-sends only the entries SQS failed, with growing backoff", async () => {
    const fake = fakeClient((entry, call) =>
      call <= 3 && ["m3", "m7"].includes(entry.Id ?? "") ? { code: "InternalError" } : "ok",
    );
    const { p, delays, retries } = publisher(fake.client, { concurrency: 1 });
    await p.publish(messages(10));
    expect(fake.calls).toEqual([
      ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"],
      ["m3", "m7"],
      ["m3", "m7"],
      ["m3", "m7"],
    ]);
    expect(fake.accepted.map((e) => e.Id).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${i}`).sort(),
    );
    // Equal jitter with random() = 0.5: 3/4 of 100, 200, 400 ms.
    expect(delays).toEqual([75, 150, 300]);
    expect(retries.map((r) => [r.attempt, r.entries, r.codes])).toEqual([
      [2, 2, ["InternalError", "InternalError"]],
      [3, 2, ["InternalError", "InternalError"]],
      [4, 2, ["InternalError", "InternalError"]],
    ]);
  });

  it("gives up after maxAttempts with a retryable QueueError counting what was not accepted", async () => {
    const fake = fakeClient((entry) => (entry.Id === "m12" ? { code: "InternalError" } : "ok"));
    const { p } = publisher(fake.client, { retry: { maxAttempts: 3 }, concurrency: 1 });
    const error = await p.publish(messages(25)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueError);
    const q = error as QueueError;
    // Batch 2 (m10..m19) failed for good; batch 3 was never started.
    expect(q.notAccepted).toBe(1 + 5);
    expect(q.total).toBe(25);
    expect(q.retryable).toBe(true);
    expect(q.codes).toEqual(["InternalError"]);
    expect(q.message).toMatch(/did not accept 6 of 25 messages/);
    expect(fake.calls.filter((c) => c.includes("m20"))).toEqual([]);
  });

  it("fails at once on a sender fault: repeating an invalid request cannot help", async () => {
    const fake = fakeClient((entry) =>
      entry.Id === "m1" ? { code: "InvalidMessageContents", senderFault: true } : "ok",
    );
    const { p, delays } = publisher(fake.client);
    const error = (await p.publish(messages(3)).catch((e: unknown) => e)) as QueueError;
    expect(error).toBeInstanceOf(QueueError);
    expect(error.retryable).toBe(false);
    expect(error.notAccepted).toBe(1);
    expect(fake.calls).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("retries whole-call throttling, 5xx and network errors, not a missing queue", async () => {
    const throttled = Object.assign(new Error("slow down"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    const network = Object.assign(new Error("connect ECONNREFUSED"), { name: "Error" });
    const server = Object.assign(new Error("oops"), {
      name: "InternalFailure",
      $metadata: { httpStatusCode: 500 },
    });
    const errors = [throttled, network, server];
    const fake = fakeClient(() => "ok", { throwOn: (call) => errors[call - 1] });
    const { p } = publisher(fake.client);
    await p.publish(messages(4));
    expect(fake.calls).toHaveLength(4);
    expect(fake.calls.every((c) => c.length === 4)).toBe(true);

    const missing = Object.assign(new Error("The specified queue does not exist."), {
      name: "QueueDoesNotExist",
      $metadata: { httpStatusCode: 400 },
    });
    const gone = fakeClient(() => "ok", { throwOn: () => missing });
    const error = (await publisher(gone.client)
      .p.publish(messages(4))
      .catch((e: unknown) => e)) as QueueError;
    expect(error).toBeInstanceOf(QueueError);
    expect(error.retryable).toBe(false);
    expect(error.fix).toMatch(/check the queue URL/);
    expect(error.cause).toBe(missing);
    expect(gone.calls).toHaveLength(1);
  });

  it("runs at most `concurrency` calls at once and sends nothing for an empty list", async () => {
    const fake = fakeClient(() => "ok", { delayMs: 5 });
    const { p } = publisher(fake.client, { concurrency: 3 });
    await p.publish(messages(95));
    expect(fake.calls).toHaveLength(10);
    expect(fake.maxInFlight()).toBe(3);
    await p.publish([]);
    expect(fake.calls).toHaveLength(10);
  });

  it("refuses a message above the body budget before sending anything", async () => {
    const fake = fakeClient();
    const { p } = publisher(fake.client, { limits: { maxMessageBytes: 1024, headroomBytes: 0 } });
    const big: KeysMessage = { kind: "keys", index: "i", keys: [["x".repeat(2000)]], lsn: 1n, sentAt: SENT };
    await expect(p.publish([...messages(2), big])).rejects.toThrow(
      /message 2 \(keys\) is \d+ bytes, above the 1024-byte budget/,
    );
    expect(fake.calls).toHaveLength(0);
  });
});

describe("SqsDeadLetterPublisher", () => {
  it("sends the body unchanged with reason attributes", async () => {
    const fake = fakeClient();
    const p = new SqsDeadLetterPublisher({
      client: fake.client,
      queueUrl: "http://sqs.local/000000000000/dlq",
    });
    await p.send([
      {
        body: '{"v":2}',
        reason: "unknown message version 2",
        messageId: "abc",
        receiveCount: 3,
        source: "arn:q",
      },
    ]);
    const [entry] = fake.accepted;
    expect(entry?.MessageBody).toBe('{"v":2}');
    expect(entry?.MessageAttributes).toMatchObject({
      "slotsync-reason": { DataType: "String", StringValue: "unknown message version 2" },
      "slotsync-source-message-id": { DataType: "String", StringValue: "abc" },
      "slotsync-receive-count": { DataType: "Number", StringValue: "3" },
      "slotsync-source": { DataType: "String", StringValue: "arn:q" },
    });
    expect(entry?.MessageAttributes?.["slotsync-dead-lettered-at"]?.StringValue).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
