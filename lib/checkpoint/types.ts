/**
 * What slotsync keeps per replication slot besides the slot itself: the poller's checkpoint and
 * stats, the lease that keeps one poller per slot, bootstrap progress and the monitor's alert state.
 * Times are ISO 8601 strings; LSNs are unsigned 64-bit integers as decimal strings.
 */

/** What one poller cycle handed on. */
export interface CheckpointCounts {
  transactions: number;
  changes: number;
  keys: number;
}

/** Where the poller stands: written after the slot was advanced, by the lease holder only. */
export interface Checkpoint {
  /** The LSN the slot was advanced to, as a decimal string (exact beyond 2^53). */
  lsn: string;
  /** Commit time of the last transaction handed on; null when the cycle had none. */
  committedAt: string | null;
  /** When this checkpoint was written. */
  updatedAt: string;
  /** Counts of the cycle that wrote this checkpoint (not cumulative). */
  counts: CheckpointCounts;
}

/** Heartbeat and throughput of the poller, for `slotsync status` and the monitor. */
export interface PollerStats {
  /** Start of the last cycle, successful or not. */
  lastPollAt: string | null;
  /** End of the last cycle that advanced the slot (or found nothing to do). */
  lastSuccessAt: string | null;
  /** WAL bytes between the server's current LSN and the slot's confirmed_flush_lsn. */
  lagBytes: number | null;
  changesPerSecond: number | null;
  keysPerSecond: number | null;
}

/**
 * Names a lease for renew, release and fenced writes: the slot and the token `acquire` returned.
 * A {@link LeaseGrant} is one; `{ slot, token }` alone is enough.
 */
export interface LeaseRef {
  slot: string;
  /** Fencing token: strictly increasing across all acquisitions of the slot. */
  token: number;
  /** The lease's time to live, used by `renew` when no other is given. */
  ttlMs?: number;
}

/** A lease held on a slot, as `acquire` returns it. */
export interface LeaseGrant extends LeaseRef {
  holderId: string;
  ttlMs: number;
}

/** Who holds a slot's lease now. */
export interface LeaseInfo {
  holderId: string;
  token: number;
  /** Milliseconds until it expires unless renewed. */
  expiresInMs: number;
}

/** One poller per slot: a lease with fencing tokens. */
export interface Lease {
  /** Takes the slot's lease for `ttlMs`; null when someone else holds it. */
  acquire(slot: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null>;
  /** Extends the lease to `ttlMs` from now (default: `lease.ttlMs`); false when it is no longer ours. */
  renew(lease: LeaseRef, ttlMs?: number): Promise<boolean>;
  /** Gives the lease up; false when it was no longer ours (nothing is changed then). */
  release(lease: LeaseRef): Promise<boolean>;
  /** The current holder, or null. */
  holder(slot: string): Promise<LeaseInfo | null>;
}

export type AlertLevel = "ok" | "warning" | "critical";

/** The monitor's memory of one alert, so it notifies on changes and re-notifies at intervals. */
export interface AlertState {
  level: AlertLevel;
  /** Since when the alert has been at this level. */
  since: string;
  /** When a notification was last sent for it; null when never. */
  lastNotifiedAt: string | null;
  /** The last message sent or computed, for `slotsync status`. */
  message?: string;
}

/**
 * A record of the schema-drift check (lib/drift): a JSON object the checkpoint store keeps as it is,
 * under a name (one per deployed schema). lib/drift gives it meaning; the store only checks that
 * it is a JSON object of reasonable size.
 */
export type DriftRecord = { [key: string]: unknown };

export type RangeStatus = "pending" | "running" | "done" | "failed";

/** Progress of one range of a bootstrap. */
export interface RangeProgress {
  status: RangeStatus;
  /** Documents written for the range (by its last completed run). */
  documents: number;
  updatedAt: string;
  /** Why it failed, when `status` is `failed`. */
  error?: string;
}

/** A consumer's report on a range. */
export interface RangeUpdate {
  status: Exclude<RangeStatus, "pending">;
  documents?: number;
  error?: string;
  /** Defaults to now. */
  at?: string;
}

/** What {@link CheckpointStore.markRange} did. */
export interface RangeMarkResult {
  /**
   * False when nothing changed: the range is already done (`done` is final; a redelivered range
   * message must not turn it back into `running` or `failed`), or the bootstrap is unknown
   * (reset meanwhile).
   */
  applied: boolean;
  reason?: "done-is-final" | "unknown-bootstrap";
  /** Ranges done so far, and in total. */
  done: number;
  total: number;
  /** True once every range is done. */
  completed: boolean;
}

/** A bootstrap about to fan its ranges out. */
export interface BootstrapPlan {
  bootstrapId: string;
  /** The schema index being filled. */
  index: string;
  /** The version of the copy: the slot's confirmed_flush_lsn before the copy's snapshot. */
  lsn: string;
  /** Every range it will send, registered as `pending`. */
  rangeIds: readonly string[];
  /** Defaults to now; kept from the first call when the same bootstrap is begun again. */
  startedAt?: string;
}

/** A bootstrap's progress as `slotsync status` shows it. */
export interface BootstrapProgress {
  bootstrapId: string;
  index: string;
  lsn: string;
  startedAt: string;
  /** When the last range was marked done; null while ranges remain. */
  completedAt: string | null;
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Registered and not yet started, plus planned but not registered. */
  pending: number;
  /** Documents written by the ranges that are done. */
  documents: number;
  ranges: Record<string, RangeProgress>;
}

/**
 * The poller's and bootstrap's shared state for slots. Checkpoint and stats writes are fenced by
 * the slot's lease: they succeed only while the given lease is the slot's current one, checked
 * and written in one atomic step, and otherwise throw `LeaseLostError`.
 */
export interface CheckpointStore {
  readCheckpoint(slot: string): Promise<Checkpoint | null>;
  /** Replaces the checkpoint; fenced. */
  writeCheckpoint(lease: LeaseRef, checkpoint: Checkpoint): Promise<void>;
  readStats(slot: string): Promise<PollerStats | null>;
  /** Updates the given stats fields, keeping the others; fenced. */
  writeStats(lease: LeaseRef, stats: Partial<PollerStats>): Promise<void>;
  /** Records a bootstrap and registers its ranges as pending (ranges already known keep their state). */
  beginBootstrap(slot: string, plan: BootstrapPlan): Promise<void>;
  /** Records one range's status; concurrent calls for different ranges never lose each other. */
  markRange(
    slot: string,
    bootstrapId: string,
    rangeId: string,
    update: RangeUpdate,
  ): Promise<RangeMarkResult>;
  readBootstrap(slot: string, bootstrapId: string): Promise<BootstrapProgress | null>;
  /** Bootstrap ids of the slot, newest first. */
  listBootstraps(slot: string): Promise<string[]>;
  readAlert(slot: string, name: string): Promise<AlertState | null>;
  writeAlert(slot: string, name: string, state: AlertState): Promise<void>;
  /** Every drift record of the slot, by name (empty when none). */
  readDrift(slot: string): Promise<Record<string, DriftRecord>>;
  /** Replaces one drift record. */
  writeDrift(slot: string, name: string, record: DriftRecord): Promise<void>;
  /** Removes one drift record, or all of the slot's when `name` is absent. */
  clearDrift(slot: string, name?: string): Promise<void>;
  /**
   * Removes everything stored for the slot — checkpoint, stats, lease, alerts, drift, bootstraps — and
   * nothing of other slots. Only the fencing counter stays, so tokens keep increasing and a
   * poller still running from before the reset can never match a new lease.
   */
  reset(slot: string): Promise<void>;
}
