import type pg from "pg";
import type { ChangeResolver } from "../resolve";
import type { Lsn, SlotReader } from "../slot";
import {
  type CycleOptions,
  type CycleResult,
  DEFAULT_CYCLE_OPTIONS,
  LeaseLostError,
  runCycle,
} from "./cycle";
import type {
  DriftGateVerdict,
  HandoffPublisher,
  LeafSetStore,
  PollerDriftGate,
  PollerStateStore,
  TransactionProgressStore,
} from "./ports";
import type { LargeTransactionReport } from "./progress";

export interface PollerLoopOptions extends CycleOptions {
  slot: string;
  /** Identifies this poller in the lease (e.g. the Lambda request id). */
  holder: string;
  /** Time from the start of one cycle to the start of the next, unless a backlog waits. */
  pollIntervalMs: number;
  /** Stop starting cycles when less than this is left before the deadline. */
  safetyMarginMs: number;
  /** Lease time-to-live; renewed before every cycle. */
  leaseTtlMs: number;
  /**
   * When the invocation must be done (ms since epoch, e.g. the Lambda's timeout less the safety
   * margin): a cycle still reading then (a transaction larger than one run) hands on what it
   * read, keeps its place in the state store and ends the run; the next run goes on from there.
   * Unset: cycles are not stopped (`slotsync run`).
   */
  stopCyclesAt?: number;
  /**
   * Economy mode (`POLLER_MODE=economy`): end the run at the first cycle that finds nothing once
   * no change has come for this long (at once when the run has seen none), instead of polling
   * until the deadline. Unset: poll until the deadline (latency mode, `slotsync run`).
   */
  idleGraceMs?: number;
  /**
   * How long a run that finds the lease held waits for it (the previous scheduled run finishing
   * its last cycle) before giving up; 0 or unset: give up at once. With runs that overlap by a few
   * seconds this closes the gap between one run's last cycle and the next run's first.
   */
  leaseWaitMs?: number;
  /**
   * Cycles that find nothing write the heartbeat at most this often (default 60 s, well inside the
   * monitor's stall threshold), so an idle poller sends no per-second writes to the state store.
   */
  heartbeatEveryMs?: number;
}

/** Idle cycles write the heartbeat at most this often by default. */
export const DEFAULT_HEARTBEAT_EVERY_MS = 60_000;
/** How often a run waiting for the lease asks for it again (each ask is one state-store command). */
export const LEASE_WAIT_STEP_MS = 100;

export const DEFAULT_LOOP_OPTIONS: Omit<PollerLoopOptions, "slot" | "holder"> = {
  ...DEFAULT_CYCLE_OPTIONS,
  pollIntervalMs: 1000,
  safetyMarginMs: 15_000,
  leaseTtlMs: 60_000,
};

export interface PollerLoopDeps {
  db: pg.ClientBase;
  reader: SlotReader;
  resolver: ChangeResolver;
  publisher: HandoffPublisher;
  state: PollerStateStore;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Resolves after `ms`, or earlier when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Schema drift watch; without it a failing cycle throws as usual. */
  drift?: PollerDriftGate;
  /** Told about large transactions while they are handed on (log line, metric). */
  onLargeTransaction?: (report: LargeTransactionReport) => void;
}

export interface PollerRunSummary {
  /**
   * `idle`: economy mode ended the run because no change came for the idle grace. `lease-held`:
   * another poller is working this slot, this one did nothing. `schema-drift`: the database no
   * longer matches the schema (see `drift`); nothing was handed on past that point.
   */
  outcome: "completed" | "idle" | "lease-held" | "lease-lost" | "stopped" | "schema-drift";
  cycles: number;
  transactions: number;
  changes: number;
  keys: number;
  advancedTo: Lsn | undefined;
  /** With `schema-drift`: what the drift check found (`reload`: resolve the schema again). */
  drift?: Exclude<DriftGateVerdict, { status: "ok" }>;
  /** The last report on a large transaction during the run (`paused`: the next run goes on with it). */
  largeTransaction?: LargeTransactionReport;
}

/**
 * Polls the slot until `deadline` (ms since epoch) approaches: the body of the scheduled Lambda
 * and of `slotsync run`. Holds the slot's lease the whole time; a second poller exits at once.
 */
export async function runPollerLoop(
  deps: PollerLoopDeps,
  options: PollerLoopOptions,
  deadline: number,
  signal?: AbortSignal,
): Promise<PollerRunSummary> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const summary: PollerRunSummary = {
    outcome: "completed",
    cycles: 0,
    transactions: 0,
    changes: 0,
    keys: 0,
    advancedTo: undefined,
  };
  const lease = await acquireLease(deps, options, deadline, now, sleep, signal);
  if (!lease) return { ...summary, outcome: "lease-held" };
  const heartbeatEveryMs = options.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS;
  // The lease is renewed when a third of its time to live has passed, not every cycle: an idle
  // latency-mode poller would otherwise write to the state store every poll interval. Unset until
  // the first cycle starts, right after the lease was taken.
  let renewedAt: number | undefined;
  let heartbeatAt: number | undefined;
  let lastChangeAt: number | undefined;
  const leafSets = leafSetMemory(
    options.slot,
    lease.token,
    deps.state.readLeaves?.bind(deps.state),
    deps.state.writeLeaves?.bind(deps.state),
  );
  const columnSets = leafSetMemory(
    options.slot,
    lease.token,
    deps.state.readColumns?.bind(deps.state),
    deps.state.writeColumns?.bind(deps.state),
  );
  const progress = progressStore(deps.state, options.slot, lease.token);
  const onLargeTransaction = (report: LargeTransactionReport) => {
    summary.largeTransaction = report;
    deps.onLargeTransaction?.(report);
  };
  try {
    while (now() + options.safetyMarginMs < deadline) {
      if (signal?.aborted) {
        summary.outcome = "stopped";
        break;
      }
      if (renewedAt !== undefined && now() - renewedAt >= options.leaseTtlMs / 3) {
        if (!(await deps.state.renew(options.slot, lease.token, options.leaseTtlMs))) {
          summary.outcome = "lease-lost";
          break;
        }
        renewedAt = now();
      }
      const started = now();
      renewedAt ??= started;
      const gate = await deps.drift?.beforeCycle(deps.db);
      if (gate && gate.status !== "ok") {
        summary.outcome = "schema-drift";
        summary.drift = gate;
        break;
      }
      let cycle: CycleResult;
      // While a cycle runs (a large transaction can take longer than the lease's time to live),
      // the lease is extended every third of its TTL; a renewal refused means another poller
      // holds it now. Right before the slot advances the lease is checked (and extended) once
      // more: renew is atomic on the token, so after it the lease holds for another leaseTtlMs.
      const keeper = keepLeaseAlive(deps.state, options, lease.token);
      const fence = async () => {
        keeper.stop();
        if (keeper.lost || !(await deps.state.renew(options.slot, lease.token, options.leaseTtlMs))) {
          throw new LeaseLostError(options.slot, lease.token);
        }
        renewedAt = now();
      };
      try {
        cycle = await runCycle(
          {
            ...deps,
            fence,
            leafSets,
            columnSets,
            now,
            onLargeTransaction,
            ...(progress ? { progress } : {}),
          },
          {
            ...options,
            ...(options.stopCyclesAt === undefined ? {} : { stopAt: options.stopCyclesAt }),
          },
        );
        keeper.stop();
      } catch (error) {
        keeper.stop();
        if (error instanceof LeaseLostError) {
          summary.outcome = "lease-lost";
          break;
        }
        // A query the schema makes failed; if the catalog shows drift, stop cleanly (the slot was
        // not advanced past anything unsent) instead of failing the same way every cycle.
        const verdict = await deps.drift?.afterFailure(deps.db, error).catch(() => undefined);
        if (!verdict || verdict.status === "ok") throw error;
        summary.outcome = "schema-drift";
        summary.drift = verdict;
        break;
      }
      summary.cycles++;
      summary.transactions += cycle.transactions;
      summary.changes += cycle.changes;
      summary.keys += cycle.keys;
      if (cycle.advancedTo !== undefined) {
        summary.advancedTo = cycle.advancedTo;
        await deps.state.checkpoint(options.slot, lease.token, {
          lsn: cycle.advancedTo,
          transactions: cycle.transactions,
          changes: cycle.changes,
          keys: cycle.keys,
        });
      }
      const busy = cycle.changes > 0 || cycle.advancedTo !== undefined;
      if (busy) lastChangeAt = now();
      if (busy || heartbeatAt === undefined || now() - heartbeatAt >= heartbeatEveryMs) {
        await deps.state.heartbeat(options.slot, lease.token, {
          at: new Date(now()),
          lagBytes: await lagBytes(deps.db, options.slot),
          transactions: cycle.transactions,
          changes: cycle.changes,
          keys: cycle.keys,
          durationMs: now() - started,
        });
        heartbeatAt = now();
      }
      // The run's time is up inside a cycle (a transaction larger than one run): its place is kept.
      if (cycle.stopped) break;
      // Economy mode: nothing came in this cycle, and nothing for the idle grace (or ever, in this
      // run): end the run; the next scheduled run polls again.
      if (
        !busy &&
        options.idleGraceMs !== undefined &&
        (lastChangeAt === undefined || now() - lastChangeAt >= options.idleGraceMs)
      ) {
        summary.outcome = "idle";
        break;
      }
      // Cycles are paced at the poll interval: a cycle's fixed costs (lease, checkpoint and
      // heartbeat in Upstash, SQS requests) are paid per cycle, so under a steady load back-to-back
      // cycles of a few changes each would multiply them. Only a cycle that stopped at
      // maxChangesPerCycle, with a backlog behind it, goes straight on.
      if (!full(cycle, options)) {
        const wait = Math.min(started + options.pollIntervalMs, deadline - options.safetyMarginMs) - now();
        if (wait > 0) await sleep(wait, signal);
      }
    }
  } finally {
    await deps.state.release(options.slot, lease.token).catch(() => undefined);
  }
  return summary;
}

/**
 * Takes the slot's lease; when another run holds it, asks again every 100 ms for up to
 * `leaseWaitMs` (never past the run's own last cycle start), then gives up.
 */
async function acquireLease(
  deps: PollerLoopDeps,
  options: PollerLoopOptions,
  deadline: number,
  now: () => number,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<{ token: number } | null> {
  let waitUntil: number | undefined;
  for (;;) {
    const lease = await deps.state.acquire(options.slot, options.holder, options.leaseTtlMs);
    if (lease || signal?.aborted || !options.leaseWaitMs) return lease;
    waitUntil ??= Math.min(now() + options.leaseWaitMs, deadline - options.safetyMarginMs);
    if (now() + LEASE_WAIT_STEP_MS > waitUntil) return null;
    await sleep(LEASE_WAIT_STEP_MS, signal);
  }
}

/**
 * The leaf sets (or column sets) of one run: read from the state store once, then kept in memory
 * (one poller holds the slot's lease, so nobody else writes them meanwhile); every change is
 * written through. Without the store's methods, they live in memory only.
 */
function leafSetMemory(
  slot: string,
  token: number,
  read: ((slot: string) => Promise<string[] | null>) | undefined,
  write: ((slot: string, token: number, values: string[]) => Promise<void>) | undefined,
): LeafSetStore {
  let known: string[] | null | undefined;
  return {
    async read() {
      if (known === undefined) known = read ? await read(slot) : null;
      return known;
    },
    async write(values) {
      if (write) await write(slot, token, values);
      known = values;
    },
  };
}

/** The state store's transaction progress of the slot, when it keeps one. */
function progressStore(
  state: PollerStateStore,
  slot: string,
  token: number,
): TransactionProgressStore | undefined {
  const { readProgress, writeProgress } = state;
  if (!readProgress || !writeProgress) return undefined;
  return {
    read: () => readProgress.call(state, slot),
    write: (progress) => writeProgress.call(state, slot, token, progress),
  };
}

/**
 * Renews the lease every third of its time to live until stopped; `lost` turns true when a
 * renewal was refused (a failed call is retried at the next tick; the fence decides).
 */
function keepLeaseAlive(
  state: PollerLoopDeps["state"],
  options: PollerLoopOptions,
  token: number,
): { stop(): void; readonly lost: boolean } {
  let lost = false;
  const timer = setInterval(
    () => {
      state
        .renew(options.slot, token, options.leaseTtlMs)
        .then((ok) => {
          if (!ok) lost = true;
        })
        .catch(() => undefined);
    },
    Math.max(100, Math.floor(options.leaseTtlMs / 3)),
  );
  timer.unref?.();
  return {
    stop: () => clearInterval(timer),
    get lost() {
      return lost;
    },
  };
}

function full(cycle: CycleResult, options: PollerLoopOptions): boolean {
  return cycle.changes >= options.maxChangesPerCycle;
}

async function lagBytes(db: pg.ClientBase, slot: string): Promise<bigint> {
  const { rows } = await db.query<{ lag: string | null }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  const lag = rows[0]?.lag;
  return lag ? BigInt(lag.split(".")[0] ?? "0") : 0n;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The `deadline` for {@link runPollerLoop} in one poller Lambda run: the loop stops starting
 * cycles `safetyMarginMs` before it, that is `runMs` after `started` (just before the next
 * scheduled tick) or the margin before the timeout `timeoutAt`, whichever comes first.
 * `runMs` 0 means: until the margin before the timeout.
 */
export function runDeadline(
  started: number,
  timeoutAt: number,
  runMs: number,
  safetyMarginMs: number,
): number {
  return runMs > 0 ? Math.min(timeoutAt, started + runMs + safetyMarginMs) : timeoutAt;
}
