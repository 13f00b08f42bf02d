/**
 * What the WAL monitor reports. Byte counts are plain numbers (exact up to 8 PiB, far beyond any
 * WAL a server keeps) so a report is JSON as it stands: for `check-wal --json`, the Lambda's result,
 * webhook payloads and EventBridge events. LSNs are PostgreSQL's text form (`16/B374D848`).
 */
import type { DriftFinding } from "../drift";

/** How bad a slot is, in order. `lost` is beyond critical: the slot cannot recover. */
export type WalLevel = "ok" | "warning" | "critical" | "lost";

/** The levels in order, index = severity (the `WalStatusLevel` metric). */
export const WAL_LEVELS: readonly WalLevel[] = ["ok", "warning", "critical", "lost"];

/** 0 ok, 1 warning, 2 critical, 3 lost. */
export function levelRank(level: WalLevel): number {
  return WAL_LEVELS.indexOf(level);
}

/** The more severe of two levels. */
export function worse(a: WalLevel, b: WalLevel): WalLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}

/** Byte thresholds on retained WAL, and where they came from. */
export interface WalThresholds {
  /** Null when neither configured nor derivable (unlimited `max_slot_wal_keep_size`). */
  warningBytes: number | null;
  criticalBytes: number | null;
  /**
   * `environment`: WAL_WARNING_THRESHOLD_GB / WAL_CRITICAL_THRESHOLD_GB (or the caller);
   * `max_slot_wal_keep_size`: 80% / 95% of it; `mixed`: one of each; `none`: no byte thresholds.
   */
  source: "environment" | "max_slot_wal_keep_size" | "mixed" | "none";
}

/** One thing the monitor found about a slot. The slot's level is the worst of its findings. */
export interface Finding {
  level: WalLevel;
  /** Stable identifier, for filters and tests. */
  code: FindingCode;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do about it. */
  fix?: string;
}

export type FindingCode =
  | "missing"
  | "lost"
  | "unreserved"
  | "retained-critical"
  | "retained-warning"
  | "inactive-growing"
  | "keep-size-unlimited"
  | "stale-poll"
  | "never-polled"
  | "bootstrap-failed"
  | "store-unreadable"
  | "schema-drift"
  | "replica-identity"
  | "documents-diverged";

/** The sync's own health for the schema's slot, from the checkpoint store. */
export interface SyncHealth {
  /** Start of the poller's last cycle, successful or not. */
  lastPollAt: string | null;
  /** End of the last cycle that advanced the slot or found nothing to do. */
  lastSuccessAt: string | null;
  secondsSinceLastSuccess: number | null;
  /** The poller's LSN lag (current WAL minus confirmed flush) measured at its last poll. */
  lagBytesAtLastPoll: number | null;
  changesPerSecond: number | null;
  keysPerSecond: number | null;
  /** The checkpoint: where the poller advanced the slot to, and when. */
  checkpoint: { lsn: string; updatedAt: string } | null;
  /** The newest bootstrap, summarised. */
  bootstrap: BootstrapSummary | null;
}

export interface BootstrapSummary {
  bootstrapId: string;
  index: string;
  startedAt: string;
  completedAt: string | null;
  total: number;
  done: number;
  running: number;
  failed: number;
  pending: number;
  documents: number;
  /** The first failed range and why it failed (a poison row, a rejected document), when one did. */
  firstFailure?: { rangeId: string; error: string };
}

/** One replication slot as the monitor sees it. */
export interface SlotReport {
  name: string;
  /** The slot the configured schema syncs through (`SLOTSYNC_SLOT`, default `slotsync`). */
  isSchemaSlot: boolean;
  /** False only for the schema's slot when it does not exist. */
  exists: boolean;
  slotType: "logical" | "physical" | null;
  plugin: string | null;
  database: string | null;
  active: boolean | null;
  /** reserved | extended | unreserved | lost; null before PostgreSQL 13 or when missing. */
  walStatus: string | null;
  /** `walStatus` in words. */
  walStatusMeaning: string;
  /** `pg_current_wal_lsn() - restart_lsn`: WAL the server keeps for this slot; null when lost. */
  retainedBytes: number | null;
  /** Bytes that can still be written before the slot is at risk; null when unlimited. */
  safeWalSizeBytes: number | null;
  /** `pg_current_wal_lsn() - confirmed_flush_lsn`: changes not yet handed on (logical slots). */
  confirmedFlushLagBytes: number | null;
  restartLsn: string | null;
  confirmedFlushLsn: string | null;
  /** Retained bytes at the previous check, and the growth since (from the alert state). */
  previousRetainedBytes: number | null;
  level: WalLevel;
  findings: Finding[];
  /** The schema slot only. */
  sync?: SyncHealth;
}

/** What the server says, read in one statement. */
export interface ServerWal {
  /** `server_version_num`, e.g. 150018. */
  versionNum: number;
  /** The current WAL position (the last replayed one on a standby). */
  currentLsn: string;
  /** `max_slot_wal_keep_size` in bytes; null when -1 (unlimited) or unknown (before 13). */
  maxSlotWalKeepSizeBytes: number | null;
  maxWalSizeBytes: number | null;
  slots: SlotRow[];
}

/** One row of `pg_replication_slots`, with the byte distances computed by the server. */
export interface SlotRow {
  name: string;
  slotType: "logical" | "physical";
  plugin: string | null;
  database: string | null;
  temporary: boolean;
  active: boolean;
  walStatus: string | null;
  safeWalSizeBytes: number | null;
  restartLsn: string | null;
  confirmedFlushLsn: string | null;
  retainedBytes: number | null;
  confirmedFlushLagBytes: number | null;
}

/** Why a notification is sent. */
export type AlertKind = "raised" | "lowered" | "recovered" | "reminder";

/** One notification about one slot, as every channel receives it. */
export interface WalAlert {
  slot: string;
  isSchemaSlot: boolean;
  kind: AlertKind;
  level: WalLevel;
  /** Null on the first check that found a problem. */
  previousLevel: WalLevel | null;
  /** Since when the slot has been at this level. */
  since: string;
  at: string;
  retainedBytes: number | null;
  walStatus: string | null;
  walStatusMeaning: string;
  active: boolean | null;
  safeWalSizeBytes: number | null;
  confirmedFlushLagBytes: number | null;
  secondsSinceLastPoll: number | null;
  thresholds: WalThresholds;
  /** The worst finding's message (or the recovery note). */
  message: string;
  /** What to do; empty on recovery. */
  recovery: string;
  findings: Finding[];
  /** Absent for WAL alerts; `schema-drift` for the schema drift alert (its `drift` says what). */
  topic?: "schema-drift";
  /** The schema drift alert only: every finding (index, table, column, what changed, fix). */
  drift?: DriftReport;
}

/** Schema drift of the deployed schema, as the poller and consumers recorded it (lib/drift). */
export interface DriftReport {
  /** Identifies the deployed schema (a hash of schema.json). */
  schemaHash: string;
  /** Empty when the database matches the schema. */
  findings: DriftFinding[];
  detectedAt: string | null;
  checkedAt: string | null;
  /** Who found it: `poller`, `consumer`, `run`. */
  source: string | null;
}

/** What happened to one notification. */
export interface AlertOutcome {
  slot: string;
  /** `schema-drift` for the drift alert; absent for WAL alerts. */
  topic?: "schema-drift";
  kind: AlertKind;
  level: WalLevel;
  previousLevel: WalLevel | null;
  /** Channels that accepted it (`webhook:discord`, `eventbridge:<bus>`). */
  delivered: string[];
  failed: { channel: string; error: string }[];
}

/** The whole check. */
export interface WalReport {
  /** When the check ran. */
  at: string;
  /** False when the server could not be read: `error` says why, exit code 3. */
  checked: boolean;
  error?: string;
  /** The worst slot level; `unknown` when not checked. */
  level: WalLevel | "unknown";
  schemaSlot: string | null;
  server: Omit<ServerWal, "slots"> | null;
  thresholds: WalThresholds | null;
  slots: SlotReport[];
  /** Notifications sent (or attempted) by this check. */
  alerts: AlertOutcome[];
  /** Trouble that did not stop the check: the store could not be read or written, delivery failed. */
  problems: string[];
  /** Schema drift of the schema's slot, when the store was read; null when none is recorded. */
  drift?: DriftReport | null;
  /** The sampled comparison of the indices with the database (lib/monitor/divergence), when configured. */
  documents?: DivergenceReport;
}

/** What the sampled verify of the monitor found, over every index of the schema. */
export interface DivergenceReport {
  /** False when no check was due this time: the numbers are those of the last check. */
  ran: boolean;
  /** When the last check ran; null before the first. */
  checkedAt: string | null;
  /** Documents found wrong by two checks in a row, over all indices: the `DocumentsDiverged` metric. */
  diverged: number;
  /** Documents found wrong for the first time now; the next check confirms or clears them. */
  suspected: number;
  indices: IndexDivergence[];
}

/** One index's part of a {@link DivergenceReport}. */
export interface IndexDivergence {
  index: string;
  /** Root rows and documents compared this time. */
  compared: number;
  /** Wrong at the previous check and still wrong now, by kind. */
  missing: number;
  extra: number;
  different: number;
  diverged: number;
  suspected: number;
  /** A few confirmed document ids. */
  examples: string[];
}
