export { DEFAULT_CYCLE_OPTIONS, runCycle } from "./cycle";
export {
  DEFAULT_LOOP_OPTIONS,
  LEASE_WAIT_STEP_MS,
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
  PollerCheckpoint,
  PollerDriftGate,
  PollerHeartbeat,
  PollerStateStore,
  TransactionProgress,
  TransactionProgressStore,
} from "./ports";
export { type LargeTransactionReport, ProgressMismatchError } from "./progress";
export { VisibilityError, waitUntilVisible, widenXid } from "./visibility";
