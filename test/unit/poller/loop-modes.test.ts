import { describe, expect, it } from "vitest";
import { runPollerLoop } from "../../../lib/poller";
import { LOOP_OPTIONS as options, scriptedSlot } from "./fake-loop";

const count = (calls: readonly string[], name: string) => calls.filter((c) => c === name).length;

describe("economy mode (idleGraceMs)", () => {
  it("ends a run whose first cycle finds nothing at once: one peek, no pause, the lease released", async () => {
    const slot = scriptedSlot(() => 0);
    const summary = await runPollerLoop(slot.deps, { ...options, idleGraceMs: 10_000 }, 60_000);
    expect(summary.outcome).toBe("idle");
    expect(summary.cycles).toBe(1);
    expect(slot.sleeps).toEqual([]);
    expect(slot.calls).toEqual(["acquire", "heartbeat", "release"]);
  });

  it("keeps polling while changes keep coming, and ends the idle grace after the last one", async () => {
    // Changes in the first 5 peeks (one a second), then nothing.
    const slot = scriptedSlot((peek) => (peek < 5 ? 2 : 0));
    const summary = await runPollerLoop(slot.deps, { ...options, idleGraceMs: 3000 }, 60_000);
    expect(summary.outcome).toBe("idle");
    expect(summary.changes).toBe(10);
    // The last change came at t = 4 s; the run goes on until a cycle 3 s later finds nothing.
    expect(slot.clock()).toBe(7000);
    expect(summary.cycles).toBe(8);
  });

  it("under sustained load runs to its deadline, like latency mode", async () => {
    const slot = scriptedSlot(() => 1);
    const summary = await runPollerLoop(slot.deps, { ...options, idleGraceMs: 3000 }, 20_000);
    expect(summary.outcome).toBe("completed");
    expect(summary.cycles).toBe(20);
  });
});

describe("latency mode, idle", () => {
  it("writes no per-cycle state: the lease is renewed each third of its TTL, the heartbeat once a minute", async () => {
    const slot = scriptedSlot(() => 0);
    // Ten idle minutes, a cycle a second.
    const summary = await runPollerLoop(slot.deps, options, 600_000);
    expect(summary.outcome).toBe("completed");
    expect(summary.cycles).toBe(600);
    expect(count(slot.calls, "renew")).toBe(29);
    expect(count(slot.calls, "heartbeat")).toBe(10);
    expect(count(slot.calls, "checkpoint")).toBe(0);
  });

  it("writes a heartbeat and a checkpoint for every cycle that found changes", async () => {
    const slot = scriptedSlot((peek) => (peek % 10 === 0 ? 1 : 0));
    const summary = await runPollerLoop(slot.deps, options, 100_000);
    expect(summary.cycles).toBe(100);
    expect(count(slot.calls, "checkpoint")).toBe(10);
    // The 10 busy cycles; the idle ones between them come less than a minute after a heartbeat.
    expect(count(slot.calls, "heartbeat")).toBe(10);
  });
});

describe("the hand-over (leaseWaitMs)", () => {
  it("waits for the lease the previous run still holds and then polls", async () => {
    const slot = scriptedSlot(() => 0, 2500);
    const summary = await runPollerLoop(
      slot.deps,
      { ...options, leaseWaitMs: 10_000, idleGraceMs: 0 },
      60_000,
    );
    expect(summary.outcome).toBe("idle");
    expect(count(slot.calls, "acquire")).toBe(26);
    expect(slot.peeks()).toBe(1);
  });

  it("gives up after the wait, and at once without one", async () => {
    const waited = scriptedSlot(() => 0, Number.POSITIVE_INFINITY);
    expect((await runPollerLoop(waited.deps, { ...options, leaseWaitMs: 1000 }, 60_000)).outcome).toBe(
      "lease-held",
    );
    expect(waited.clock()).toBe(1000);
    const at = scriptedSlot(() => 0, Number.POSITIVE_INFINITY);
    expect((await runPollerLoop(at.deps, options, 60_000)).outcome).toBe("lease-held");
    expect(at.calls).toEqual(["acquire"]);
  });
});
