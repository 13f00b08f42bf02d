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
export {
  type CompletionOptions,
  type CompletionResult,
  completeBootstrap,
  DEFAULT_GRACE_MS,
  DEFAULT_LOCK_WAIT_MS,
  deleteRetired,
  onRangeDone,
} from "./complete";
export { checkDatabase } from "./database";
export { BootstrapBusyError, BootstrapError, PrerequisiteError } from "./errors";
export { type ConsumerBootstrapHooks, consumerBootstrapHooks } from "./hooks";
export { LOCK_TTL_MS, lockName, withBootstrapLock } from "./lock";
export { type MaintenanceResult, maintainBootstraps } from "./maintain";
export {
  bodyHash,
  bootstrapIdFor,
  concreteIndexName,
  concreteIndexOf,
  indexVersion,
  VERSION_DIGITS,
  versionOf,
} from "./naming";
export {
  decodeRangeId,
  distinctSplits,
  encodeRangeId,
  MAX_RANGE_ID_CHARS,
  type PlannedRange,
  rangesFromSplits,
} from "./ranges";
export {
  type BuildingCopy,
  type CopyInfo,
  type IndexRecord,
  type RetiredIndex,
  readIndexRecord,
  recordName,
} from "./record";
export { type ResetOptions, type ResetResult, resetSlot } from "./reset";
export { copiesOf, DEFAULT_RESEND_AFTER_MS, rangesToSend, runBootstrap } from "./run";
export { EventBridgeSchedule, type PollerSchedule } from "./schedule";
export { type BootstrapSettings, bootstrapSettingsFromEnv } from "./settings";
export { dropSlot, ensureSlot, readSlotPosition, type SlotPosition } from "./slot";
export { DEFAULT_SPLIT_OPTIONS, planRanges, type RangePlan, type SplitOptions } from "./split";
export {
  type BootstrapStatus,
  bootstrapStatus,
  type IndexStatus,
  type ProgressCounts,
  progressCounts,
} from "./status";
export {
  DEFAULT_TARGETS_CACHE_MS,
  type TargetContext,
  type TargetResolverOptions,
  WriteTargetResolver,
} from "./targets";
export type {
  BootstrapDeps,
  BootstrapEvent,
  BootstrapOptions,
  BootstrapSummary,
  CompletionDeps,
  IndexBootstrapSummary,
  IndexState,
  PrerequisiteCheck,
  TimingOptions,
} from "./types";
export { ProgressMeter, type ProgressUpdate, type WatchOptions, watchBootstrap } from "./watch";
