export {
  type CycleDeps,
  type CycleOptions,
  type CycleResult,
  DEFAULT_CYCLE_OPTIONS,
  LeaseLostError,
  runCycle,
} from "./cycle";
export {
  DEFAULT_LOOP_OPTIONS,
  type PollerLoopDeps,
  type PollerLoopOptions,
  type PollerRunSummary,
  runDeadline,
  runPollerLoop,
} from "./loop";
export type {
  DriftGateVerdict,
  Handoff,
  HandoffPublisher,
  LeafSetStore,
  PollerCheckpoint,
  PollerDriftGate,
  PollerHeartbeat,
  PollerStateStore,
  TransactionProgress,
  TransactionProgressStore,
} from "./ports";
export {
  DEFAULT_LARGE_TRANSACTION_CHANGES,
  type LargeTransactionReport,
  ProgressMismatchError,
} from "./progress";
export { VisibilityError, waitUntilVisible, widenXid } from "./visibility";
