export { type BatchResult, processBatch } from "./batch";
export { type BuildOutcome, type BuiltDocument, buildDocuments, DriftFound, type PoisonedKey } from "./build";
export { DEFAULT_THROTTLE_DELAY_SECONDS, Deferral, type DeferredRecord, isDeferrable, keyId } from "./defer";
export { isFatal } from "./fatal";
export { bisect, isPoisonError, type RetryTransientOptions, retryTransient } from "./isolate";
export {
  type BatchHandler,
  type BatchOutcome,
  batchHandler,
  type ConsumerLoopOptions,
  type ConsumerLoopStats,
  pause,
  retryDelayMs,
  runConsumerLoop,
} from "./loop";
export { Overlap } from "./overlap";
export { routeOperations } from "./routing";
export { consumerOptionsFromEnv, MAX_LOOK_AHEAD } from "./settings";
export {
  type BatchStats,
  type ConsumerDeps,
  type ConsumerDriftPort,
  type ConsumerOptions,
  DEFAULT_CONSUMER_OPTIONS,
  DEFAULT_LOOK_AHEAD,
  emptyBatchStats,
  type IndexWork,
  type LeasedClient,
} from "./types";
