/**
 * Per-slot state beside the replication slot: the poller's checkpoint and stats, the fenced lease
 * that keeps one poller per slot, bootstrap progress and the monitor's alert state — on Upstash
 * Redis, or in a local directory for local mode.
 */
export { CheckpointError, LeaseLostError } from "./errors";
export { type FileCheckpointOptions, FileCheckpointStore } from "./file-store";
export type { LockOptions } from "./files";
export type {
  AlertLevel,
  AlertState,
  BootstrapPlan,
  BootstrapProgress,
  Checkpoint,
  CheckpointCounts,
  CheckpointStore,
  DriftRecord,
  Lease,
  LeaseGrant,
  LeaseInfo,
  LeaseRef,
  PollerStats,
  RangeMarkResult,
  RangeProgress,
  RangeStatus,
  RangeUpdate,
} from "./types";
export { redisKeys, type UpstashCheckpointOptions, UpstashCheckpointStore } from "./upstash";
