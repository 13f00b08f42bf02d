import { describe, expect, it } from "vitest";
import { LocalQueue } from "../../../lib/cli/sync/local-queue";
import { type BatchOutcome, batchHandler, retryDelayMs, runConsumerLoop } from "../../../lib/consumer";
import type { DocumentBuilder } from "../../../lib/document";
import { type DeadLetter, MemoryQueue } from "../../../lib/queue";
import type { DocumentWriter } from "../../../lib/sink";
import { noDatabaseDeps } from "../../support/consumer-deps";

const unknownIndex = { kind: "rebuild", index: "unknown", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" } as const;
const bookKeys = {
  kind: "keys",
  index: "book",
  keys: [["1"]],
  lsn: 5n,
  sentAt: "2026-01-01T00:00:00Z",
} as const;

/** Lets every pending callback run (one event-loop turn); not a wait for time to pass. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Deps whose database refuses the password (SQLSTATE 28P01): no retry can fix that. */
function refusedDeps() {
  const refused = Object.assign(new Error('password authentication failed for user "sync"'), {
    code: "28P01",
  });
  const deps = {
    attempts: 0,
    refused,
    deps: {
      connect: () => {
        deps.attempts++;
        return Promise.reject(refused);
      },
      builders: new Map([["book", {} as DocumentBuilder]]),
      sink: {} as DocumentWriter,
      deadLetter: () => Promise.reject(new Error("nothing is dead-lettered here")),
    },
  };
  return deps;
}

/** A dead-letter sink that refuses once (the record must come again, not be lost), then keeps. */
function flakyDeadLetters() {
  const letters: DeadLetter[] = [];
  let refuse = 1;
  const send = async (l: DeadLetter[]) => {
    if (refuse-- > 0) throw new Error("dead-letter queue briefly unreachable");
    letters.push(...l);
  };
  return { letters, send };
}

describe("retryDelayMs", () => {
  it("doubles from half a second up to 30 s", () => {
    expect([1, 2, 3, 6, 7, 20].map(retryDelayMs)).toEqual([500, 1000, 2000, 16_000, 30_000, 30_000]);
  });
});

describe("runConsumerLoop over a MemoryQueue", () => {
  it("retries a transient failure and finishes once the queue is empty", async () => {
    const queue = new MemoryQueue();
    const dlq = flakyDeadLetters();
    await queue.publish([unknownIndex]);
    const stats = await runConsumerLoop(queue, batchHandler(noDatabaseDeps(dlq.send)), {
      concurrency: 2,
      retryDelayMs: () => 0,
      idleMs: 1,
    });
    expect(dlq.letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/index "unknown" is not in the schema/),
    ]);
    expect(stats).toEqual({ batches: 2, records: 2, failed: 1, documents: 0 });
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, deadLettered: 0 });
  });

  it("stops every worker on an error retrying cannot fix and rejects with it, the record kept", async () => {
    const queue = new MemoryQueue();
    await queue.publish([bookKeys]);
    const db = refusedDeps();
    const fatal: unknown[] = [];
    const run = runConsumerLoop(queue, batchHandler(db.deps), {
      concurrency: 2,
      retryDelayMs: () => 0,
      idleMs: 1,
      // Not stopping when idle: only the fatal error can end this run.
      stopWhenIdle: false,
      onFatal: (e) => fatal.push(e),
    });
    await expect(run).rejects.toBe(db.refused);
    expect(db.attempts).toBe(1);
    expect(fatal).toEqual([db.refused]);
    expect(queue.pending()).toBe(1);
  });

  it("fails the whole batch when the handler throws, and stops if that error is fatal", async () => {
    const queue = new MemoryQueue();
    await queue.publish([unknownIndex, bookKeys]);
    let calls = 0;
    const outcomes: BatchOutcome[] = [];
    const run = runConsumerLoop(
      queue,
      async () => {
        calls++;
        if (calls === 1) throw new Error("checkpoint store unreachable");
        throw Object.assign(new Error("permission denied for table book"), { code: "42501" });
      },
      { concurrency: 1, retryDelayMs: () => 0, idleMs: 1, onBatch: (o) => outcomes.push(o) },
    );
    await expect(run).rejects.toThrow("permission denied");
    expect(outcomes.map((o) => [o.messages.length, o.failed])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    expect(calls).toBe(2);
    expect(queue.pending()).toBe(2);
  });

  it("returns after the current batch when aborted, leaving the rest in the queue", async () => {
    const queue = new MemoryQueue();
    await queue.publish([unknownIndex]);
    const abort = new AbortController();
    const stats = await runConsumerLoop(
      queue,
      async (event) => {
        abort.abort();
        return {
          response: { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) },
        };
      },
      { concurrency: 3, retryDelayMs: () => 0, idleMs: 1, stopWhenIdle: false, signal: abort.signal },
    );
    expect(stats).toEqual({ batches: 1, records: 1, failed: 1, documents: 0 });
    expect(queue.pending()).toBe(1);
  });

  it("retries a failed receive instead of stopping, and reports it", async () => {
    const queue = new MemoryQueue();
    await queue.publish([unknownIndex]);
    const receive = queue.receive.bind(queue);
    let failures = 1;
    queue.receive = (options) => {
      if (failures-- > 0) throw new Error("receive failed");
      return receive(options);
    };
    const errors: unknown[] = [];
    const stats = await runConsumerLoop(queue, batchHandler(noDatabaseDeps(async () => undefined)), {
      concurrency: 1,
      idleMs: 1,
      onBatch: (o) => {
        if (o.messages.length === 0) errors.push(o.error);
      },
    });
    expect(errors).toEqual([new Error("receive failed")]);
    expect(stats.records).toBe(1);
  });
});

describe("runConsumerLoop over slotsync run's LocalQueue", () => {
  it("acknowledges handled messages, retries the ones that failed, and stops when the work is done", async () => {
    const queue = new LocalQueue();
    const dlq = flakyDeadLetters();
    const records: number[] = [];
    let finishing = false;
    const consumer = runConsumerLoop(queue, batchHandler(noDatabaseDeps(dlq.send)), {
      concurrency: 2,
      stopWhenIdle: () => finishing,
      retryDelayMs: () => 0,
      onBatch: (o) => records.push(o.stats.records),
    });
    // A message for an index this consumer does not know: it goes to the dead letters.
    await queue.publish([unknownIndex]);
    await queue.drained({ intervalMs: 50 });
    finishing = true;
    queue.notify();
    const stats = await consumer;
    expect(dlq.letters).toHaveLength(1);
    expect(dlq.letters[0]?.reason).toMatch(/index "unknown" is not in the schema/);
    expect(records).toEqual([1, 1]);
    expect(stats.failed).toBe(1);
    expect(queue.pending()).toBe(0);
  });

  it("waits for work while not told to stop, and returns once told, woken by notify", async () => {
    const queue = new LocalQueue();
    let finishing = false;
    let returned = false;
    const consumer = runConsumerLoop(queue, batchHandler(noDatabaseDeps(async () => undefined)), {
      concurrency: 1,
      stopWhenIdle: () => finishing,
      // Longer than the test: the queue's notifications wake the idle worker.
      idleMs: 60_000,
    }).then((s) => {
      returned = true;
      return s;
    });
    await turn();
    await queue.publish([unknownIndex]);
    await queue.drained({ intervalMs: 50 });
    expect(returned).toBe(false);
    finishing = true;
    queue.notify();
    expect((await consumer).records).toBe(1);
  });

  it("fails the queue's waiting publishers with the fatal error", async () => {
    const queue = new LocalQueue();
    const db = refusedDeps();
    const consumer = runConsumerLoop(queue, batchHandler(db.deps), {
      concurrency: 2,
      stopWhenIdle: false,
      onFatal: (e) => queue.fail(e),
    });
    await queue.publish([bookKeys]);
    await expect(queue.drained({ intervalMs: 50 })).rejects.toBe(db.refused);
    await expect(consumer).rejects.toBe(db.refused);
    expect(queue.pending()).toBe(1);
  });
});
