/**
 * Per-slot state beside the replication slot: the poller's checkpoint and stats, the fenced lease
 * that keeps one poller per slot, bootstrap progress and the monitor's alert state — on Upstash
 * Redis, or in a local directory for local mode.
 */
export { CheckpointError, LeaseLostError } from "./errors";
export { FileCheckpointStore } from "./file-store";
export type {
  AlertLevel,
  AlertState,
  BootstrapProgress,
  Checkpoint,
  CheckpointStore,
  DriftRecord,
  Lease,
  LeaseGrant,
  PollerStats,
  RangeMarkResult,
  RangeProgress,
} from "./types";
export { UpstashCheckpointStore } from "./upstash";
