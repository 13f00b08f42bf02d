import type { ConsumerDeps } from "../consumer";
import { indexAdminOf } from "../sink";
import { type CompletionOptions, onRangeDone } from "./complete";
import { WriteTargetResolver } from "./targets";
import type { CompletionDeps } from "./types";

/** What a consumer needs to take part in bootstraps and re-indexes. */
export type ConsumerBootstrapHooks = Required<Pick<ConsumerDeps, "targets" | "rangeDone" | "rangeFailed">>;

/**
 * The consumer's bootstrap hooks, wired the same way in the consumer Lambda, `slotsync run` and
 * `slotsync bootstrap`: documents go to the serving alias and to the copy being built (range
 * copies to the copy only), and the consumer that finishes the last range completes the copy.
 * A range whose record goes to the dead-letter path is marked `failed` with the reason: `status`
 * shows it, the monitor alerts (`bootstrap-failed`), and `bootstrap --resume` sends it again.
 * `targetsCacheMs` must be the same everywhere (`WRITE_TARGETS_CACHE_SECONDS`).
 */
export function consumerBootstrapHooks(
  deps: CompletionDeps,
  options: CompletionOptions & { targetsCacheMs: number },
): ConsumerBootstrapHooks {
  const admin = indexAdminOf(deps.sink);
  // A stream sink has no aliases or concrete copies: every document goes under its index's name.
  const targets = admin
    ? new WriteTargetResolver({
        slot: deps.slot,
        store: deps.store,
        sink: admin,
        ttlMs: options.targetsCacheMs,
      }).targets
    : async (index: string) => [index];
  return {
    targets,
    rangeDone: async (bootstrapId, rangeId, documents) => {
      await onRangeDone(deps, bootstrapId, rangeId, documents, options);
    },
    rangeFailed: async (bootstrapId, rangeId, reason) => {
      await deps.store.markRange(deps.slot, bootstrapId, rangeId, { status: "failed", error: reason });
    },
  };
}
