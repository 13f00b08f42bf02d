export { type BatchResult, processBatch } from "./batch";
export { Deferral, isDeferrable } from "./defer";
export { isFatal } from "./fatal";
export { bisect, isPoisonError, retryTransient } from "./isolate";
export {
  type BatchHandler,
  type BatchOutcome,
  batchHandler,
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
  type LeasedClient,
} from "./types";
