import { describe, expect, it } from "vitest";
import { runLocalConsumers } from "../../../lib/bootstrap";
import type { DocumentBuilder } from "../../../lib/document";
import { type DeadLetter, MemoryQueue } from "../../../lib/queue";
import type { DocumentSink } from "../../../lib/sink";
import { noDatabaseDeps } from "../../support/consumer-deps";

const unknownIndex = { kind: "rebuild", index: "unknown", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" } as const;

describe("runLocalConsumers", () => {
  it("retries a transient failure and finishes once the queue is empty", async () => {
    const queue = new MemoryQueue();
    const letters: DeadLetter[] = [];
    let refuse = 1;
    await queue.publish([unknownIndex]);
    const stats = await runLocalConsumers(
      queue,
      noDatabaseDeps(async (l) => {
        if (refuse-- > 0) throw new Error("dead-letter queue briefly unreachable");
        letters.push(...l);
      }),
      { concurrency: 2, retryAfterMs: 0, idleMs: 1 },
    );
    expect(letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/index "unknown" is not in the schema/),
    ]);
    expect(stats.failed).toBe(1);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, deadLettered: 0 });
  });

  it("stops every worker on an error retrying cannot fix and rejects with it, the record kept", async () => {
    const queue = new MemoryQueue();
    await queue.publish([
      { kind: "keys", index: "book", keys: [["1"]], lsn: 5n, sentAt: "2026-01-01T00:00:00Z" },
    ]);
    // SQLSTATE 28P01: the database refuses the password; no retry can fix that.
    const refused = Object.assign(new Error('password authentication failed for user "sync"'), {
      code: "28P01",
    });
    let attempts = 0;
    const run = runLocalConsumers(
      queue,
      {
        connect: () => {
          attempts++;
          return Promise.reject(refused);
        },
        builders: new Map([["book", {} as DocumentBuilder]]),
        sink: {} as DocumentSink,
        deadLetter: () => Promise.reject(new Error("nothing is dead-lettered here")),
      },
      // Not stopping when idle: only the fatal error can end this run.
      { concurrency: 2, retryAfterMs: 0, idleMs: 1, stopWhenIdle: false },
    );
    await expect(run).rejects.toBe(refused);
    expect(attempts).toBe(1);
    const counts = queue.counts();
    expect(counts.visible + counts.inFlight).toBe(1);
  });
});
