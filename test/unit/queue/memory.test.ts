import { describe, expect, it } from "vitest";
import {
  batchResponse,
  deadLetterEntry,
  deadLetterRecords,
  encodeMessage,
  eventFromReceived,
  type KeysMessage,
  MemoryQueue,
  packKeys,
  parseSqsEvent,
  QueueError,
  resolveLimits,
  type SqsRecord,
  utf8Bytes,
} from "../../../lib/queue";

const SENT = "2026-11-21T10:00:00.000Z";
const keys = (i: number): KeysMessage => ({
  kind: "keys",
  index: "book",
  keys: [[i]],
  lsn: 2n ** 60n + BigInt(i),
  sentAt: SENT,
});

/** A queue on a clock the test moves, so visibility timeouts need no waiting. */
function clocked(options: ConstructorParameters<typeof MemoryQueue>[0] = {}) {
  const clock = { now: 1_000_000 };
  const queue = new MemoryQueue({
    visibilityTimeoutMs: 30_000,
    maxReceiveCount: 3,
    now: () => clock.now,
    ...options,
  });
  return { queue, clock };
}

describe("MemoryQueue", () => {
  it("delivers published messages as their encoded bodies, oldest first, at most maxMessages", async () => {
    const { queue } = clocked();
    await queue.publish([keys(1), keys(2), keys(3)]);
    const first = queue.receive({ maxMessages: 2 });
    expect(first.map((m) => m.body)).toEqual([encodeMessage(keys(1)), encodeMessage(keys(2))]);
    expect(first.every((m) => m.receiveCount === 1)).toBe(true);
    expect(queue.receive().map((m) => m.body)).toEqual([encodeMessage(keys(3))]);
    expect(queue.receive()).toEqual([]);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 3, deadLettered: 0 });
  });

  it("redelivers after the visibility timeout unless deleted, and ignores stale receipt handles", async () => {
    const { queue, clock } = clocked();
    await queue.publish([keys(1), keys(2)]);
    const [a, b] = queue.receive();
    expect(a && queue.delete(a.receiptHandle)).toBe(true);
    clock.now += 29_999;
    expect(queue.receive()).toEqual([]);
    clock.now += 1;
    const [again] = queue.receive();
    expect(again?.messageId).toBe(b?.messageId);
    expect(again?.receiveCount).toBe(2);
    // The first handle of b no longer deletes it: it was received again since.
    expect(b && queue.delete(b.receiptHandle)).toBe(false);
    expect(queue.counts().inFlight).toBe(1);
    expect(again && queue.changeVisibility(again.receiptHandle, 0)).toBe(true);
    expect(queue.receive()).toHaveLength(1);
  });

  it("moves a message received maxReceiveCount times to the dead letters, with the reason", async () => {
    const { queue, clock } = clocked();
    await queue.publish([keys(1)]);
    for (let i = 1; i <= 3; i++) {
      expect(queue.receive()[0]?.receiveCount).toBe(i);
      clock.now += 30_000;
    }
    expect(queue.receive()).toEqual([]);
    const [dead] = queue.deadLetters;
    expect(dead).toMatchObject({
      body: encodeMessage(keys(1)),
      receiveCount: 3,
      reason: "maxReceiveCount (3) exceeded: received 3 times without being deleted",
    });
    expect(dead?.attributes["slotsync-reason"]).toBe(dead?.reason);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, deadLettered: 1 });
  });

  it("rejects like SQS when entries are refused, keeping the accepted ones", async () => {
    const { queue } = clocked({ accept: (_body, i) => i !== 1 });
    const error = (await queue.publish([keys(1), keys(2), keys(3)]).catch((e: unknown) => e)) as QueueError;
    expect(error).toBeInstanceOf(QueueError);
    expect(error.notAccepted).toBe(1);
    expect(error.retryable).toBe(true);
    expect(queue.receive().map((m) => m.body)).toEqual([encodeMessage(keys(1)), encodeMessage(keys(3))]);
  });

  it("refuses oversize bodies like SQS", async () => {
    const { queue } = clocked({ limits: { maxMessageBytes: 1024, maxBatchBytes: 1024, headroomBytes: 0 } });
    expect(() => queue.sendBody("x".repeat(1025))).toThrow(QueueError);
    await expect(queue.publish([{ ...keys(1), keys: [["y".repeat(1100)]] }])).rejects.toThrow(
      /above the 1024-byte budget/,
    );
  });

  it("runs a consumer round: valid records processed, unknown version dead-lettered with its reason", async () => {
    const { queue } = clocked();
    await queue.publish(packKeys({ index: "book", keys: [[1], [2]], lsn: 2n ** 60n, sentAt: SENT }));
    queue.sendBody('{"v":2,"kind":"keys"}');
    queue.sendBody("{broken");
    const received = queue.receive();
    const event = eventFromReceived(received, { eventSourceARN: "arn:aws:sqs:local:0:q" });
    const { valid, invalid } = parseSqsEvent(event);
    expect(valid.map((v) => v.message.lsn)).toEqual([2n ** 60n]);
    expect(invalid.map((i) => i.error.reason)).toEqual([
      "unknown message version 2",
      expect.stringMatching(/^\$: not valid JSON/),
    ]);

    const { failed } = await deadLetterRecords(
      queue.deadLetterPublisher(),
      invalid.map(({ record, error }) => ({ record, reason: error.reason })),
    );
    expect(failed).toEqual([]);
    const response = batchResponse(failed);
    expect(response).toEqual({ batchItemFailures: [] });
    // Everything not listed as failed is acknowledged, as Lambda does.
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const m of received) if (!failedIds.has(m.messageId)) queue.delete(m.receiptHandle);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, deadLettered: 2 });
    expect(
      queue.deadLetters.map((d) => [d.body, d.reason, d.receiveCount, d.attributes["slotsync-source"]]),
    ).toEqual([
      ['{"v":2,"kind":"keys"}', "unknown message version 2", 1, "arn:aws:sqs:local:0:q"],
      ["{broken", expect.stringMatching(/^\$: not valid JSON/), 1, "arn:aws:sqs:local:0:q"],
    ]);
  });
});

describe("consumer helpers", () => {
  const record = (messageId: string, body = "{}"): SqsRecord => ({ messageId, body });

  it("builds the partial batch response from records or ids, without duplicates or empty ids", () => {
    expect(batchResponse([record("a"), "b", record("a"), ""])).toEqual({
      batchItemFailures: [{ itemIdentifier: "a" }, { itemIdentifier: "b" }],
    });
  });

  it("reports every record as failed when the DLQ refuses, so none is acknowledged and lost", async () => {
    const boom = new Error("dlq down");
    const result = await deadLetterRecords({ send: () => Promise.reject(boom) }, [
      { record: record("a"), reason: "r" },
      { record: record("b"), reason: "r" },
    ]);
    expect(result).toEqual({ failed: ["a", "b"], error: boom });
    expect(await deadLetterRecords({ send: () => Promise.reject(boom) }, [])).toEqual({ failed: [] });
  });

  it("rethrows anything that is not a format error instead of hiding a bug", () => {
    const event = {
      Records: [
        {
          messageId: "a",
          get body(): string {
            throw new TypeError("bug");
          },
        },
      ],
    };
    expect(() => parseSqsEvent(event)).toThrow(TypeError);
  });

  it("shortens and cleans a reason so the dead letter still fits", () => {
    const limits = resolveLimits();
    const body = "x".repeat(limits.maxMessageBytes - 300);
    const entry = deadLetterEntry(
      { body, reason: `bad\u0000char ${"é".repeat(900)}`, messageId: "m" },
      limits,
    );
    const reason = entry.attributes?.["slotsync-reason"]?.StringValue ?? "";
    expect(reason.startsWith("bad\uFFFDchar")).toBe(true);
    expect(reason.endsWith("…")).toBe(true);
    expect(entry.bytes).toBeLessThanOrEqual(limits.maxMessageBytes);
    expect(entry.bytes).toBe(
      utf8Bytes(body) +
        Object.entries(entry.attributes ?? {}).reduce(
          (n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v.DataType ?? "") + utf8Bytes(v.StringValue ?? ""),
          0,
        ),
    );
    const plain = deadLetterEntry({ body: "{}", reason: "   " }, limits);
    expect(plain.attributes?.["slotsync-reason"]?.StringValue).toBe("no reason given");
  });
});
