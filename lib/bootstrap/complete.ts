import { randomBytes } from "node:crypto";
import type { RangeMarkResult } from "../checkpoint";
import { indexAdminOf } from "../sink";
import { withBootstrapLock } from "./lock";
import { versionOf } from "./naming";
import { type IndexRecord, readIndexRecord, writeIndexRecord } from "./record";
import type { BootstrapEvent, CompletionDeps, TimingOptions } from "./types";

/** Default grace before an index the alias left is deleted (REINDEX_GRACE_MINUTES = 60). */
export const DEFAULT_GRACE_MS = 60 * 60_000;
/** Default wait for the bootstrap lock when completing. */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

export interface CompletionResult {
  /**
   * `serving`: the alias points at the copy (switched by this call or before). `copying`: ranges
   * remain. `superseded`: a newer copy of the index replaced this one. `unknown`: no such bootstrap.
   */
  state: "serving" | "copying" | "superseded" | "unknown";
  index?: string;
  concrete?: string;
  /** True when this call switched the alias. */
  switched: boolean;
  /** Indices the alias left at this switch. */
  previous: string[];
}

export interface CompletionOptions extends TimingOptions {
  onEvent?: (event: BootstrapEvent) => void;
}

/**
 * Finishes a copy whose ranges are all done: refreshes the new index, points the alias at it in
 * one atomic step (replacing a concrete index of the alias's name, PGSync's, in the same step),
 * retires the index the alias left, enables the poller's schedule and records it all.
 * Idempotent: calling it again, or for a copy still running, changes nothing.
 */
export async function completeBootstrap(
  deps: CompletionDeps,
  bootstrapId: string,
  options: CompletionOptions = {},
): Promise<CompletionResult> {
  return withBootstrapLock(
    deps.store,
    deps.slot,
    {
      holder: deps.holder ?? `complete-${randomBytes(4).toString("hex")}`,
      waitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
    () => completeLocked(deps, bootstrapId, options),
  );
}

/**
 * The consumer's `rangeDone`: marks the range done and, when it was the last one, completes the
 * copy. Ranges of other runs (a consumer-side `rebuild-…`) are marked and otherwise ignored.
 */
export async function onRangeDone(
  deps: CompletionDeps,
  bootstrapId: string,
  rangeId: string,
  documents: number,
  options: CompletionOptions = {},
): Promise<{ mark: RangeMarkResult; completion?: CompletionResult }> {
  const mark = await deps.store.markRange(deps.slot, bootstrapId, rangeId, { status: "done", documents });
  if (!mark.completed || !versionOf(bootstrapId)) return { mark };
  return { mark, completion: await completeBootstrap(deps, bootstrapId, options) };
}

/** {@link completeBootstrap} for a caller that already holds the bootstrap lock. */
export async function completeLocked(
  deps: CompletionDeps,
  bootstrapId: string,
  options: CompletionOptions,
): Promise<CompletionResult> {
  const now = deps.now ?? Date.now;
  const progress = await deps.store.readBootstrap(deps.slot, bootstrapId);
  if (!progress) return { state: "unknown", switched: false, previous: [] };
  const index = progress.index;
  if (progress.total === 0 || progress.done < progress.total) {
    return { state: "copying", index, switched: false, previous: [] };
  }
  const record = await readIndexRecord(deps.store, deps.slot, index);
  const building = record.building;
  if (!building || building.bootstrapId !== bootstrapId) {
    if (record.serving?.bootstrapId !== bootstrapId) {
      return { state: "superseded", index, switched: false, previous: [] };
    }
    // Switched before; the schedule may have failed to enable then.
    await deps.schedule?.enable();
    return { state: "serving", index, concrete: record.serving.concrete, switched: false, previous: [] };
  }

  // Searches see the last copied documents at once after the switch. A stream sink has no index
  // to refresh or alias to switch: its copy was emitted under the index name, so it is complete.
  let left: string[] = [];
  const admin = indexAdminOf(deps.sink);
  if (admin) {
    await admin.refresh(building.concrete);
    const { previous } = await admin.swapAlias(index, building.concrete, { replaceIndex: true });
    left = previous.filter((p) => p !== building.concrete);
  }
  const at = new Date(now());
  options.onEvent?.({ step: "switched", index, concrete: building.concrete, previous: left });

  const next: IndexRecord = {
    ...record,
    serving: {
      bootstrapId,
      concrete: building.concrete,
      bodyHash: building.bodyHash,
      switchedAt: at.toISOString(),
    },
    building: null,
    retired: [...record.retired.filter((r) => r.concrete !== building.concrete)],
  };
  const deleteAfter = new Date(at.getTime() + (options.graceMs ?? DEFAULT_GRACE_MS)).toISOString();
  for (const old of left) {
    if (!next.retired.some((r) => r.concrete === old)) next.retired.push({ concrete: old, deleteAfter });
  }
  await writeIndexRecord(deps.store, deps.slot, next, at);
  if (options.deleteOldNow) await deleteRetired(deps, next, { ...options, graceMs: 0, force: true });
  await deps.schedule?.enable();
  return { state: "serving", index, concrete: building.concrete, switched: true, previous: left };
}

/**
 * Deletes retired indices whose grace period has passed (all of them with `force`), unless the
 * alias points at one again. Updates the record. Caller holds the bootstrap lock.
 * The alias only ever names one concrete index and consumers write through the alias, so a
 * retired index receives no writes that could re-create it after deletion.
 */
export async function deleteRetired(
  deps: CompletionDeps,
  record: IndexRecord,
  options: CompletionOptions & { force?: boolean } = {},
): Promise<IndexRecord> {
  const admin = indexAdminOf(deps.sink);
  if (record.retired.length === 0 || !admin) return record;
  const now = (deps.now ?? Date.now)();
  const aliasTargets = await admin.getAliasTargets(record.index);
  const kept: IndexRecord["retired"] = [];
  for (const retired of record.retired) {
    if (aliasTargets.includes(retired.concrete)) continue;
    if (!options.force && Date.parse(retired.deleteAfter) > now) {
      kept.push(retired);
      continue;
    }
    await admin.deleteIndex(retired.concrete);
    options.onEvent?.({ step: "deleted", index: record.index, concrete: retired.concrete });
  }
  if (kept.length === record.retired.length) return record;
  const next = { ...record, retired: kept };
  await writeIndexRecord(deps.store, deps.slot, next, new Date(now));
  return next;
}
