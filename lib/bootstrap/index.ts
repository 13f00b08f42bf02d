/**
 * Bootstrap and zero-downtime re-index: creates the slot, builds a versioned copy of each index
 * behind its alias by fanning key ranges out to the consumers, keeps the copy in sync while it is
 * built, switches the alias atomically when done and retires the old copy; resumes after a crash;
 * resets everything for recovery.
 *
 * ```ts
 * const summary = await runBootstrap(deps, { reindex: false, deadline });
 * await watchBootstrap(deps, copiesOf(summary), { onProgress });
 * ```
 */
export { copyIndexBody } from "./body";
export { type CompletionOptions, completeBootstrap, onRangeDone } from "./complete";
export { checkDatabase } from "./database";
export { BootstrapBusyError, BootstrapError, PrerequisiteError } from "./errors";
export { consumerBootstrapHooks } from "./hooks";
export { lockName, withBootstrapLock } from "./lock";
export { maintainBootstraps } from "./maintain";
export {
  bodyHash,
  bootstrapIdFor,
  concreteIndexName,
  concreteIndexOf,
  indexVersion,
  versionOf,
} from "./naming";
export { decodeRangeId, distinctSplits, encodeRangeId, rangesFromSplits } from "./ranges";
export { type IndexRecord, readIndexRecord, recordName } from "./record";
export { resetSlot } from "./reset";
export { copiesOf, rangesToSend, runBootstrap } from "./run";
export { EventBridgeSchedule, type PollerSchedule } from "./schedule";
export { bootstrapSettingsFromEnv } from "./settings";
export { DEFAULT_SPLIT_OPTIONS } from "./split";
export { bootstrapStatus } from "./status";
export { WriteTargetResolver } from "./targets";
export type { BootstrapDeps, BootstrapEvent, BootstrapSummary, CompletionDeps } from "./types";
export { ProgressMeter, type ProgressUpdate, watchBootstrap } from "./watch";
