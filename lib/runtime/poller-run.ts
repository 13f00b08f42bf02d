import type { PollerConfig } from "../config";
import { DEFAULT_LOOP_OPTIONS, type PollerLoopOptions, runDeadline } from "../poller";

/** One scheduled poller run: what the Lambda knows when it starts. */
export interface ScheduledRun {
  slot: string;
  /** Identifies the run in the lease (the Lambda request id). */
  holder: string;
  /** When the run started (ms since epoch). */
  started: number;
  /** When the Lambda times out (ms since epoch). */
  timeoutAt: number;
}

/**
 * The poller loop's options and deadline for one scheduled run, as the poller Lambda runs it (the
 * benchmark runs its poller with the same): cycles start until `POLLER_RUN_SECONDS`, the run waits
 * for the previous run's lease (`POLLER_LEASE_WAIT_SECONDS`), economy mode ends the run after
 * `POLLER_IDLE_GRACE_SECONDS` without changes, and a cycle inside a transaction larger than one run
 * goes on up to the safety margin before the timeout.
 */
export function scheduledRunOptions(
  poller: PollerConfig,
  run: ScheduledRun,
): { options: PollerLoopOptions; deadline: number } {
  const { safetyMarginMs } = poller;
  return {
    options: {
      ...DEFAULT_LOOP_OPTIONS,
      slot: run.slot,
      holder: run.holder,
      pollIntervalMs: poller.pollIntervalMs,
      safetyMarginMs,
      fetchSize: poller.fetchSize,
      maxChangesPerCycle: poller.maxChangesPerCycle,
      leaseTtlMs: poller.leaseTtlMs,
      // The previous run may still finish its last cycle: wait for its lease rather than leave the
      // slot unpolled until the next tick.
      leaseWaitMs: poller.leaseWaitMs,
      // Economy mode ends the run once changes stop coming; latency mode polls to the run's end.
      ...(poller.mode === "economy" ? { idleGraceMs: poller.idleGraceMs } : {}),
      stopCyclesAt: run.timeoutAt - safetyMarginMs,
    },
    deadline: runDeadline(run.started, run.timeoutAt, poller.runMs, safetyMarginMs),
  };
}
