import { describe, expect, it } from "vitest";
import { retryDelayMs, runMemoryConsumer } from "../../../../lib/cli/sync/consumers";
import { LocalQueue } from "../../../../lib/cli/sync/local-queue";
import type { DeadLetter } from "../../../../lib/queue";
import { noDatabaseDeps } from "../../../support/consumer-deps";

describe("retryDelayMs", () => {
  it("doubles from half a second up to 30 s", () => {
    expect([1, 2, 3, 6, 7, 20].map(retryDelayMs)).toEqual([500, 1000, 2000, 16_000, 30_000, 30_000]);
  });
});

describe("runMemoryConsumer", () => {
  it("acknowledges handled messages, retries the ones that failed, and stops when the work is done", async () => {
    const queue = new LocalQueue();
    const letters: DeadLetter[] = [];
    let refuse = 1;
    const stats: number[] = [];
    let finishing = false;
    const consumer = runMemoryConsumer(
      queue,
      noDatabaseDeps(async (l) => {
        // The DLQ refuses once: the record must come again, not be lost.
        if (refuse-- > 0) throw new Error("dlq down");
        letters.push(...l);
      }),
      {
        finishing: () => finishing,
        signal: new AbortController().signal,
        fatal: (e) => {
          throw e;
        },
        report: (s) => stats.push(s.records),
      },
    );
    // A message for an index this consumer does not know: it goes to the dead letters.
    await queue.publish([{ kind: "rebuild", index: "unknown", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" }]);
    await queue.drained({ intervalMs: 50 });
    finishing = true;
    queue.notify();
    await consumer;
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toMatch(/index "unknown" is not in the schema/);
    expect(stats).toEqual([1, 1]);
    expect(queue.pending).toBe(0);
  });
});
