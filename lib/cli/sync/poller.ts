import { LeaseLostError } from "../../checkpoint";
import type { PollerConfig } from "../../config";
import { pause, retryDelayMs } from "../../consumer";
import { connectDatabase, isTransientDatabaseError } from "../../database";
import { isRetryable, SlotsyncError } from "../../errors";
import {
  DEFAULT_LOOP_OPTIONS,
  type HandoffPublisher,
  type PollerDriftGate,
  type PollerRunSummary,
  runPollerLoop,
} from "../../poller";
import { ChangeResolver } from "../../resolve";
import type { ResolvedSchema } from "../../schema";
import { PgSlotReader } from "../../slot";
import { errorLine } from "../errors";
import type { CliLogger } from "../output";
import type { LeaseKeeper } from "./lease-keeper";

export interface PollerRunOptions {
  pgUrl: string;
  slot: string;
  /** Names this process in the lease. */
  holder: string;
  schema: ResolvedSchema;
  publisher: HandoffPublisher;
  state: LeaseKeeper;
  poller: PollerConfig;
  /** No retries: the first failure ends the run (`--once`). */
  once: boolean;
  /** Aborted to stop after the current cycle. */
  stop: AbortSignal;
  log: CliLogger;
  /** How long to wait before trying again when another poller holds the lease (default 5 s). */
  leaseRetryMs?: number;
  /** Schema drift watch (lib/drift DriftGuard): the run stops with outcome "schema-drift". */
  drift?: PollerDriftGate;
}

/**
 * The poller of `slotsync run`: the same loop as the poller Lambda, on a connection of its own,
 * without a deadline. A lost connection or another transient failure is logged and retried with
 * backoff (nothing was advanced past unhandled changes, so a retry only replays); a missing or
 * lost slot, a bad schema or a refused credential ends the run.
 */
export async function runPoller(options: PollerRunOptions): Promise<PollerRunSummary | undefined> {
  const resolver = new ChangeResolver(options.schema);
  let failures = 0;
  let last: PollerRunSummary | undefined;
  while (!options.stop.aborted) {
    let db: Awaited<ReturnType<typeof connectDatabase>> | undefined;
    try {
      db = await connectDatabase(options.pgUrl, "slotsync-poller");
      const reader = new PgSlotReader(db, options.slot);
      await reader.check();
      last = await runPollerLoop(
        {
          db,
          reader,
          resolver,
          publisher: options.publisher,
          state: options.state,
          sleep: pause,
          onLargeTransaction: (report) => {
            const fields = {
              slot: options.slot,
              state: report.state,
              xid: report.xid,
              changesDecoded: report.changes,
              resumed: report.resumed,
            };
            if (report.state === "done")
              options.log.info("large-transaction", `transaction ${report.xid} handed on whole`, fields);
            else
              options.log.warn(
                "large-transaction",
                `large transaction ${report.xid} in progress: ${report.changes} changes decoded; the slot advances once it is handed on whole`,
                fields,
              );
          },
          ...(options.drift ? { drift: options.drift } : {}),
        },
        {
          ...DEFAULT_LOOP_OPTIONS,
          slot: options.slot,
          holder: options.holder,
          pollIntervalMs: options.poller.pollIntervalMs,
          safetyMarginMs: 0,
          fetchSize: options.poller.fetchSize,
          maxChangesPerCycle: options.poller.maxChangesPerCycle,
          leaseTtlMs: options.poller.leaseTtlMs,
        },
        Number.POSITIVE_INFINITY,
        options.stop,
      );
      failures = 0;
      if (last.outcome === "lease-held") {
        const held = new SlotsyncError(`another poller holds the lease of slot "${options.slot}"`, {
          where: `slot ${options.slot}`,
          fix: "stop the other `slotsync run` or disable the poller Lambda's schedule; its lease expires a minute after it stops",
        });
        if (options.once) throw held;
        options.log.warn("lease-held", `${held.message}; trying again shortly`, { slot: options.slot });
        await pause(options.leaseRetryMs ?? 5000, options.stop);
        continue;
      }
      if (last.outcome === "lease-lost") {
        options.log.warn("lease-lost", `lost the lease of slot "${options.slot}"; taking it again`);
        continue;
      }
      return last;
    } catch (error) {
      if (options.once || !worthRetrying(error)) throw error;
      failures++;
      const delay = retryDelayMs(failures);
      options.log.error("poll-failed", `${errorLine(error)}; retrying in ${Math.round(delay / 100) / 10} s`, {
        error: errorLine(error),
        retryInMs: delay,
      });
      await pause(delay, options.stop);
    } finally {
      await db?.end().catch(() => undefined);
    }
  }
  return last;
}

function worthRetrying(error: unknown): boolean {
  if (error instanceof LeaseLostError) return true;
  if (error instanceof SlotsyncError) return error.retryable;
  if (isRetryable(error) || isTransientDatabaseError(error)) return true;
  // AWS SDK errors (SQS unreachable, throttled) carry $metadata; the publisher already retried.
  return typeof error === "object" && error !== null && "$metadata" in error;
}
