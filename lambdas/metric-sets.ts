/**
 * Which of the functions' metrics are published (`SLOTSYNC_METRICS`). CloudWatch bills each custom
 * metric by the month, idle or not ($0.30 each), so by default the functions publish only what an
 * alarm or the dashboard reads, and the large-transaction pair the runbook points to.
 */

import type { MetricSelection } from "../lib/config";

/** The metrics an alarm of the stack reads (infra/alarms.ts). */
export const ALARM_METRICS: ReadonlySet<string> = new Set([
  "AlertDeliveryFailures",
  "CheckFailed",
  "ConfirmedFlushLagBytes",
  "DocumentsDiverged",
  "RecordsFailed",
  "ReplicaIdentityMissing",
  "RetainedWalBytes",
  "SchemaDrift",
  "SecondsSinceLastPoll",
  "WalStatusLevel",
]);

/** The metrics the dashboard shows beyond the alarms' (infra/dashboard.ts), and the large-transaction pair. */
export const DASHBOARD_METRICS: ReadonlySet<string> = new Set([
  "BulkChunkSize",
  "BulkLatency",
  "BulkThrottleRate",
  "Changes",
  "DocumentsDeleted",
  "DocumentsIndexed",
  "KeysSent",
  "LargeTransactionChanges",
  "LargeTransactionInProgress",
  "RecordsDeadLettered",
  "RecordsDeferred",
  "Transactions",
  "VersionConflicts",
]);

/** Whether a metric is published under a selection. */
export function publishes(selection: MetricSelection, name: string): boolean {
  if (selection === "all") return true;
  return ALARM_METRICS.has(name) || (selection === "standard" && DASHBOARD_METRICS.has(name));
}
