import { type ReconcileMode, type ReconcileProgress, reconcileSlice } from "../reconcile";
import type { SearchSink } from "../sink";
import type { ConsumerDeps, ConsumerOptions, RepairRequest } from "./types";

/** What the repairs of one batch did. */
export interface RepairOutcome {
  /** Records to deliver again (a page failed; nothing past the last saved page is lost). */
  failed: string[];
  /** Repairs not finished before the deadline, continued by a follow-up message. */
  continued: number;
  /** Per-index progress of the jobs worked on. */
  progress: { index: string; target: string; done: boolean; progress: ReconcileProgress }[];
  /** The first error that failed a repair. */
  error?: unknown;
}

/**
 * Reconciles every index that a truncate or rebuild message names with the database, in slices:
 * what is left when the deadline nears goes on in a follow-up message (the same repair, so its
 * progress in the checkpoint store is found again). Several messages for one index share one job:
 * the one with the highest version covers the others (its snapshots see more, its version is higher).
 */
export async function runRepairs(
  requests: ReadonlyMap<string, readonly RepairRequest[]>,
  deps: ConsumerDeps,
  sink: SearchSink,
  options: ConsumerOptions,
  targetsOf: (index: string) => Promise<readonly string[]>,
): Promise<RepairOutcome> {
  const outcome: RepairOutcome = { failed: [], continued: 0, progress: [] };
  // Slices need somewhere to keep progress and a way to continue; without both, run to the end.
  const sliced = deps.reconcileStore !== undefined && deps.enqueue !== undefined;
  for (const [index, list] of requests) {
    const builder = deps.builders.get(index);
    if (!builder || list.length === 0) continue;
    const mode: ReconcileMode = list.some((r) => r.message.kind === "rebuild") ? "rebuild" : "missing-extra";
    let version = 0n;
    for (const r of list) if (r.message.lsn > version) version = r.message.lsn;
    const ids: string[] = [];
    try {
      let done = true;
      for (const target of await targetsOf(index)) {
        const id = `${index}-${mode}-${version}-${target}`;
        ids.push(id);
        const slice = await reconcileSlice(
          { id, index, target, mode, version },
          {
            connect: deps.connect,
            builder,
            sink,
            ...(deps.reconcileStore ? { store: deps.reconcileStore } : {}),
            ...(deps.now ? { now: deps.now } : {}),
          },
          {
            pageSize: options.rangePageSize,
            ...(sliced && options.deadline !== undefined ? { deadline: options.deadline } : {}),
            ...(sliced && options.repairPagesPerSlice !== undefined
              ? { maxPages: options.repairPagesPerSlice }
              : {}),
          },
        );
        outcome.progress.push({ index, target, done: slice.done, progress: slice.progress });
        if (!slice.done) {
          done = false;
          break;
        }
      }
      if (done) {
        for (const id of ids) await deps.reconcileStore?.clear(id);
      } else {
        await deps.enqueue?.([
          mode === "rebuild"
            ? { kind: "rebuild", index, lsn: version, sentAt: new Date().toISOString() }
            : { kind: "truncate", index, lsn: version, sentAt: new Date().toISOString() },
        ]);
        outcome.continued++;
      }
    } catch (error) {
      outcome.error ??= error;
      for (const r of list) outcome.failed.push(r.record.messageId);
    }
  }
  return outcome;
}
