import { describe, expect, it } from "vitest";
import { runPollerLoop } from "../../../lib/poller";
import { busySlot, LOOP_OPTIONS as options } from "./fake-loop";

describe("the poller loop's pace", () => {
  it("starts cycles that found changes one poll interval apart, not back to back", async () => {
    const { deps, sleeps } = busySlot(3);
    const summary = await runPollerLoop(deps, options, 10_000);
    // Ten seconds of a slot that always has new changes: one cycle per second.
    expect(summary.cycles).toBe(10);
    expect(summary.changes).toBe(30);
    expect(sleeps).toEqual(Array(10).fill(1000));
  });

  it("goes straight on after a cycle that stopped at maxChangesPerCycle (a backlog waits)", async () => {
    const { deps, sleeps } = busySlot(5);
    let cycles = 0;
    const limited = { ...deps, now: () => (cycles++ < 40 ? 0 : 10_000) };
    const summary = await runPollerLoop(limited, options, 10_000);
    expect(summary.cycles).toBeGreaterThan(1);
    expect(sleeps).toEqual([]);
  });
});
