import type { ConsumerDeps } from "../consumer";
import { type CompletionOptions, onRangeDone } from "./complete";
import { WriteTargetResolver } from "./targets";
import type { CompletionDeps } from "./types";

/** What a consumer needs to take part in bootstraps and re-indexes. */
export type ConsumerBootstrapHooks = Required<Pick<ConsumerDeps, "targets" | "rangeDone">>;

/**
 * The consumer's bootstrap hooks, wired the same way in the consumer Lambda, `slotsync run` and
 * `slotsync bootstrap`: documents go to the serving alias and to the copy being built (range
 * copies to the copy only), and the consumer that finishes the last range completes the copy.
 * `targetsCacheMs` must be the same everywhere (`WRITE_TARGETS_CACHE_SECONDS`).
 */
export function consumerBootstrapHooks(
  deps: CompletionDeps,
  options: CompletionOptions & { targetsCacheMs: number },
): ConsumerBootstrapHooks {
  const resolver = new WriteTargetResolver({
    slot: deps.slot,
    store: deps.store,
    sink: deps.sink,
    ttlMs: options.targetsCacheMs,
  });
  return {
    targets: resolver.targets,
    rangeDone: async (bootstrapId, rangeId, documents) => {
      await onRangeDone(deps, bootstrapId, rangeId, documents, options);
    },
  };
}
