import type { ChangeMessageVisibilityBatchCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { type ConsumerDeps, type ConsumerDriftPort, processBatch } from "../../../lib/consumer";
import type { DocumentBuilder } from "../../../lib/document";
import {
  driftDelaySeconds,
  holdDriftedEvent,
  MAX_VISIBILITY_SECONDS,
  SchemaDriftError,
  SqsRecordDelayer,
  splitDrifted,
} from "../../../lib/drift";
import type { DeadLetter, SqsRecord } from "../../../lib/queue";
import type { SearchSink } from "../../../lib/sink";

const drift = new SchemaDriftError([
  { index: "book", table: "public.book", column: "title", kind: "column-missing", fix: "fix it" },
]);

function record(id: string, receives: number, body = ""): SqsRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: String(receives) },
  };
}

const keysBody = (keys: string[][]) =>
  JSON.stringify({
    v: 1,
    kind: "keys",
    index: "book",
    keys,
    lsn: "100",
    sent_at: "2026-11-21T10:00:00.000Z",
  });

describe("back-off of records blocked by drift", () => {
  it("doubles from the first delay per delivery, at most 12 hours", () => {
    const settings = { firstDelaySeconds: 1800 };
    expect([1, 2, 3, 4].map((n) => driftDelaySeconds(n, settings))).toEqual([1800, 3600, 7200, 14400]);
    expect(driftDelaySeconds(10, settings)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it("dead-letters records on their last delivery, lets the others wait", () => {
    const { wait, deadLetter } = splitDrifted([record("a", 1), record("b", 5), record("c", 7)], 5);
    expect(wait.map((r) => r.messageId)).toEqual(["a"]);
    expect(deadLetter.map((r) => r.messageId)).toEqual(["b", "c"]);
  });

  it("changes the visibility of each record with its own delay, ten per request", async () => {
    const sent: ChangeMessageVisibilityBatchCommand[] = [];
    const delayer = new SqsRecordDelayer({
      client: {
        send: (async (command: ChangeMessageVisibilityBatchCommand) => {
          sent.push(command);
          return { Successful: [], Failed: [] };
        }) as never,
      },
      queueUrl: "http://q",
      settings: { firstDelaySeconds: 60 },
    });
    const records = Array.from({ length: 12 }, (_, i) => record(String(i), 1 + (i % 2)));
    await delayer.delay(records);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.input.QueueUrl).toBe("http://q");
    expect(sent[0]?.input.Entries?.[0]).toMatchObject({ ReceiptHandle: "rh-0", VisibilityTimeout: 60 });
    expect(sent[0]?.input.Entries?.[1]).toMatchObject({ ReceiptHandle: "rh-1", VisibilityTimeout: 120 });
    expect(sent[1]?.input.Entries).toHaveLength(2);
  });

  it("holds a whole event while the schema does not resolve", async () => {
    const delayed: string[] = [];
    const letters: DeadLetter[] = [];
    const held = await holdDriftedEvent({ Records: [record("a", 1), record("b", 3)] }, drift, {
      delayer: { delay: async (rs) => void delayed.push(...rs.map((r) => r.messageId)) },
      deadLetter: async (l) => void letters.push(...l),
      maxReceives: 3,
    });
    expect(held.response.batchItemFailures).toEqual([{ itemIdentifier: "a" }]);
    expect(delayed).toEqual(["a"]);
    expect(letters).toMatchObject([
      { messageId: "b", reason: expect.stringMatching(/^schema-drift: .*public\.book\.title/) },
    ]);
    expect(letters[0]?.reason).toContain("re-index");
  });

  it("keeps a record it could not dead-letter in the queue", async () => {
    const held = await holdDriftedEvent({ Records: [record("b", 3)] }, drift, {
      deadLetter: async () => {
        throw new Error("DLQ down");
      },
      maxReceives: 3,
    });
    expect(held.response.batchItemFailures).toEqual([{ itemIdentifier: "b" }]);
    expect(held.problems).toHaveLength(1);
  });
});

describe("processBatch with a drift port", () => {
  function deps(port: ConsumerDriftPort | undefined, letters: DeadLetter[]): ConsumerDeps {
    const builder = {
      buildKeys: async () => {
        throw Object.assign(new Error("column n0.title does not exist"), { code: "42703" });
      },
    } as unknown as DocumentBuilder;
    return {
      connect: async () => ({
        client: { query: async () => ({ rows: [] }) } as never,
        release: () => undefined,
      }),
      builders: new Map([["book", builder]]),
      sink: {} as SearchSink,
      deadLetter: async (l) => void letters.push(...l),
      ...(port ? { drift: port } : {}),
    };
  }

  it("fails blocked records with a long back-off and dead-letters those on their last delivery", async () => {
    const delayed: string[] = [];
    const letters: DeadLetter[] = [];
    const port: ConsumerDriftPort = {
      explain: async () => drift,
      delay: async (rs) => void delayed.push(...rs.map((r) => r.messageId)),
      maxReceives: 5,
    };
    const event = { Records: [record("a", 1, keysBody([["1"]])), record("b", 5, keysBody([["2"]]))] };
    const result = await processBatch(event, deps(port, letters));
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: "a" }]);
    expect(delayed).toEqual(["a"]);
    expect(letters).toMatchObject([{ messageId: "b", reason: expect.stringMatching(/^schema-drift: /) }]);
    expect(result.error).toBe(drift);
    expect(result.stats).toMatchObject({ failed: 1, deadLettered: 1, delayed: 1 });
  });

  it("without drift (or without a port) the failing key is dead-lettered alone with its reason", async () => {
    const port: ConsumerDriftPort = {
      explain: async () => undefined,
      delay: async () => undefined,
      maxReceives: 5,
    };
    const event = { Records: [record("a", 1, keysBody([["1"]]))] };
    for (const p of [port, undefined]) {
      const letters: DeadLetter[] = [];
      const result = await processBatch(event, deps(p, letters));
      expect(result.response.batchItemFailures).toEqual([]);
      expect(result.error).toBeUndefined();
      expect(letters).toMatchObject([
        { messageId: "a", reason: "build-failed: column n0.title does not exist" },
      ]);
      expect(JSON.parse(letters[0]?.body ?? "")).toMatchObject({ kind: "keys", keys: [["1"]] });
      expect(result.stats).toMatchObject({ failed: 0, deadLettered: 1, poisoned: 1 });
    }
  });
});

describe("drift settings", () => {
  it("has defaults and validates each variable", () => {
    const base = { PG_URL: "postgresql://u@h/db" };
    expect(loadConfig(base).drift).toEqual({
      checkIntervalMs: 300_000,
      retryDelaySeconds: 1800,
      maxReceiveCount: 5,
    });
    expect(
      loadConfig({
        ...base,
        DRIFT_CHECK_MINUTES: "0",
        DRIFT_RETRY_DELAY_MINUTES: "0.5",
        SQS_MAX_RECEIVE_COUNT: "3",
      }).drift,
    ).toEqual({ checkIntervalMs: 0, retryDelaySeconds: 30, maxReceiveCount: 3 });
    expect(() => loadConfig({ ...base, DRIFT_CHECK_MINUTES: "-1", SQS_MAX_RECEIVE_COUNT: "2.5" })).toThrow(
      /DRIFT_CHECK_MINUTES must be a number.*SQS_MAX_RECEIVE_COUNT must be a whole number/,
    );
  });
});
