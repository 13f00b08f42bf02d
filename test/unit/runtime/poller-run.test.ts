import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { scheduledRunOptions } from "../../../lib/runtime";

const env = {
  PG_URL: "postgresql://u:pw@db:5432/app",
  SCHEMA: "schema.json",
  POLLER_RUN_SECONDS: "63",
  POLLER_LEASE_WAIT_SECONDS: "7",
  POLLER_IDLE_GRACE_SECONDS: "4",
  POLL_INTERVAL_SECONDS: "0.5",
};
const run = { slot: "s1", holder: "req-1", started: 1_000_000, timeoutAt: 1_000_000 + 900_000 };

describe("scheduledRunOptions", () => {
  it("gives a latency-mode run the configured run length, lease wait and timeout margin, and no idle grace", () => {
    const { poller } = loadConfig({ ...env, POLLER_MODE: "latency" });
    const { options, deadline } = scheduledRunOptions(poller, run);
    expect(options).toMatchObject({
      slot: "s1",
      holder: "req-1",
      pollIntervalMs: 500,
      leaseWaitMs: 7000,
      safetyMarginMs: 15_000,
      stopCyclesAt: run.timeoutAt - 15_000,
    });
    expect(options.idleGraceMs).toBeUndefined();
    // Cycles start until POLLER_RUN_SECONDS: the loop stops the safety margin before the deadline.
    expect(deadline - options.safetyMarginMs).toBe(run.started + 63_000);
  });

  it("ends an economy-mode run after the idle grace", () => {
    const { poller } = loadConfig({ ...env, POLLER_MODE: "economy" });
    expect(scheduledRunOptions(poller, run).options.idleGraceMs).toBe(4000);
  });

  it("runs until the margin before the timeout when no run length is set", () => {
    const { poller } = loadConfig({ ...env, POLLER_RUN_SECONDS: "0" });
    expect(scheduledRunOptions(poller, run).deadline).toBe(run.timeoutAt);
  });
});
