import { describe, expect, it, onTestFinished, vi } from "vitest";
import { DrainingPublisher, LocalQueue } from "../../../../lib/cli/sync/local-queue";
import { decodeMessage } from "../../../../lib/queue";

/** Lets every pending callback run (one event-loop turn); not a wait for time to pass. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

const handoff = (keys: string[][]) => [{ kind: "keys" as const, index: "book", keys, version: 100n }];

describe("DrainingPublisher over LocalQueue", () => {
  it("resolves only once consumers acknowledged everything it sent", async () => {
    const queue = new LocalQueue();
    const publisher = new DrainingPublisher(queue, async () => undefined);
    let settled = false;
    const publishing = publisher.publish(handoff([["1"], ["2"]])).then(() => {
      settled = true;
    });
    const received = await queue.receive({ maxMessages: 10 });
    expect(
      received.flatMap((m) => {
        const message = decodeMessage(m.body);
        return message.kind === "keys" ? message.keys : [];
      }),
    ).toEqual([["1"], ["2"]]);
    await turn();
    expect(settled).toBe(false);
    for (const m of received) queue.acknowledge([m]);
    await publishing;
    expect(settled).toBe(true);
    expect(queue.pending()).toBe(0);
  });

  it("waits for work the consumers queued in turn (continuations) too", async () => {
    const queue = new LocalQueue();
    let settled = false;
    const publishing = new DrainingPublisher(queue, async () => undefined)
      .publish(handoff([["1"]]))
      .then(() => {
        settled = true;
      });
    const [first] = await queue.receive({ maxMessages: 10 });
    await queue.publish([{ kind: "rebuild", index: "book", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" }]);
    if (first) queue.acknowledge([first]);
    await turn();
    expect(settled).toBe(false);
    for (const m of await queue.receive({ maxMessages: 10 })) queue.acknowledge([m]);
    await publishing;
    expect(settled).toBe(true);
  });

  it("rejects with the consumers' fatal error, and with a lost lease", async () => {
    const queue = new LocalQueue();
    const publishing = new DrainingPublisher(queue, async () => undefined).publish(handoff([["1"]]));
    queue.fail(new Error("credentials refused"));
    await expect(publishing).rejects.toThrow("credentials refused");

    const other = new LocalQueue();
    await other.publish([{ kind: "rebuild", index: "book", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" }]);
    const lost = other.drained({
      intervalMs: 1,
      onWait: async () => {
        throw new Error("lease lost");
      },
    });
    await expect(lost).rejects.toThrow("lease lost");
  });

  it("sends nothing and returns at once when there is nothing to hand on", async () => {
    const queue = new LocalQueue();
    await new DrainingPublisher(queue, async () => undefined).publish([]);
    expect(queue.pending()).toBe(0);
  });
});

describe("LocalQueue", () => {
  it("offers a failed message again after the delay, counting receives", async () => {
    const queue = new LocalQueue();
    await queue.publish([{ kind: "rebuild", index: "book", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" }]);
    const [first] = await queue.receive({ maxMessages: 10 });
    expect(first?.receiveCount).toBe(1);
    if (first) queue.retryLater(first, 0);
    const [again] = await queue.receive({ maxMessages: 10 });
    expect(again?.messageId).toBe(first?.messageId);
    expect(again?.receiveCount).toBe(2);
    expect(queue.pending()).toBe(1);
  });

  it("wakes a waiting consumer when a message arrives", async () => {
    // Frozen timers: only the notification can end the wait (not its periodic recheck).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const queue = new LocalQueue();
    let woken = false;
    const waiting = queue.waitForMessages(60_000).then(() => {
      woken = true;
    });
    await turn();
    expect(woken).toBe(false);
    await queue.publish([{ kind: "rebuild", index: "book", lsn: 5n, sentAt: "2026-01-01T00:00:00Z" }]);
    await waiting;
    expect(queue.receive({ maxMessages: 10 })).toHaveLength(1);
  });

  it("a waiting consumer returns on abort", async () => {
    const queue = new LocalQueue();
    const abort = new AbortController();
    const waiting = queue.waitForMessages(60_000, abort.signal);
    abort.abort();
    await waiting;
    await queue.waitForMessages(60_000, abort.signal);
  });
});
