import { randomBytes } from "node:crypto";
import { type CompletionOptions, type CompletionResult, completeLocked, deleteRetired } from "./complete";
import { BootstrapBusyError } from "./errors";
import { withBootstrapLock } from "./lock";
import { readIndexRecord } from "./record";
import type { CompletionDeps } from "./types";

export interface MaintenanceResult {
  /** Copies whose ranges were all done, by index: switched now or found switched. */
  completed: CompletionResult[];
  /** Retired indices deleted because their grace period passed. */
  deleted: string[];
  /** True when another bootstrap held the lock; nothing was done, try at the next run. */
  busy: boolean;
}

/**
 * Housekeeping for a scheduled function (the monitor, every few minutes): switches copies whose
 * ranges are all done but were not switched (the last `rangeDone` lost the race for the lock, or
 * consumers are not wired to complete), and deletes old copies whose grace period has passed.
 * Never waits for the lock: when it is taken, the next run does the work.
 */
export async function maintainBootstraps(
  deps: CompletionDeps,
  indices: readonly string[],
  options: CompletionOptions = {},
): Promise<MaintenanceResult> {
  const result: MaintenanceResult = { completed: [], deleted: [], busy: false };
  const onEvent = options.onEvent;
  const tracking: CompletionOptions = {
    ...options,
    onEvent: (event) => {
      if (event.step === "deleted") result.deleted.push(event.concrete);
      onEvent?.(event);
    },
  };
  try {
    await withBootstrapLock(
      deps.store,
      deps.slot,
      {
        holder: deps.holder ?? `maintain-${randomBytes(4).toString("hex")}`,
        ...(deps.now ? { now: deps.now } : {}),
      },
      async () => {
        for (const index of indices) {
          let record = await readIndexRecord(deps.store, deps.slot, index);
          if (record.building?.phase === "copying") {
            const completion = await completeLocked(deps, record.building.bootstrapId, tracking);
            if (completion.state === "serving") {
              result.completed.push(completion);
              record = await readIndexRecord(deps.store, deps.slot, index);
            }
          }
          await deleteRetired(deps, record, tracking);
        }
      },
    );
  } catch (error) {
    if (!(error instanceof BootstrapBusyError)) throw error;
    result.busy = true;
  }
  return result;
}
